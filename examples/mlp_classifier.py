"""A small MLP classifier trained with nn, a loss module and plain SGD written out by hand.

Two interleaved spirals, 2-16-16-2 network, cross-entropy. The weights are set from explicit
numbers (not a random generator) so that the program prints the same numbers with
`import torch` in place of the cygrad import (tests/test_examples.py checks that)."""
import math

import cygrad as torch

points, labels = [], []
for i in range(60):
    angle = i / 60 * 3 * math.pi
    for label, sign in ((0, 1.0), (1, -1.0)):
        radius = 0.2 + i / 60
        points.append([sign * radius * math.cos(angle), sign * radius * math.sin(angle)])
        labels.append(label)
x = torch.tensor(points)
y = torch.tensor(labels)

model = torch.nn.Sequential(
    torch.nn.Linear(2, 16), torch.nn.Tanh(),
    torch.nn.Linear(16, 16), torch.nn.Tanh(),
    torch.nn.Linear(16, 2),
)
with torch.no_grad():  # deterministic weights, identical in both libraries
    for index, param in enumerate(model.parameters()):
        count = param.numel()
        values = [math.sin(1.7 * (index + 1) * (k + 1)) * 0.5 for k in range(count)]
        param.copy_(torch.tensor(values).reshape(param.shape))

loss_fn = torch.nn.CrossEntropyLoss()
learning_rate = 0.5
for step in range(301):
    loss = loss_fn(model(x), y)
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad
    if step % 100 == 0:
        print(f"step {step:3d}  loss {loss.item():.5f}")

with torch.no_grad():
    predicted = model(x).max(1).indices
correct = sum(int(p == t) for p, t in zip(predicted.tolist(), y.tolist()))
print(f"accuracy {correct}/{len(labels)}")
