"""An MLP classifier (Linear, ReLU, Sigmoid, CrossEntropyLoss, Adam) on a synthetic 3-class data
set. Shows a tqdm progress bar and saves the loss curve as mlp_loss.png when tqdm and matplotlib
are installed, and simply skips them when they are not.

The weights are set from explicit numbers rather than a random generator, so with `import torch`
in place of the cygrad import the program prints the same numbers (tests/test_examples.py).
`python mlp_classifier.py cuda` runs it on the GPU."""
import math
import sys

import cygrad as torch

device = sys.argv[1] if len(sys.argv) > 1 else "cpu"

try:
    from tqdm import tqdm
except ImportError:  # optional: plain iteration without a progress bar
    def tqdm(iterable, **_):
        return iterable

# three classes: points around three centres on a circle, with a deterministic spread
points, labels = [], []
for i in range(90):
    label = i % 3
    angle = 2 * math.pi * label / 3 + 0.6 * math.sin(7.3 * i)
    radius = 1.0 + 0.4 * math.cos(3.1 * i)
    points.append([radius * math.cos(angle), radius * math.sin(angle)])
    labels.append(label)
x = torch.tensor(points, device=device)
y = torch.tensor(labels, device=device)

model = torch.nn.Sequential(
    torch.nn.Linear(2, 16), torch.nn.ReLU(),
    torch.nn.Linear(16, 16), torch.nn.Sigmoid(),
    torch.nn.Linear(16, 3),
)
with torch.no_grad():
    for index, param in enumerate(model.parameters()):
        values = [math.sin(1.3 * (index + 1) * (k + 1)) * 0.6 for k in range(param.numel())]
        param.copy_(torch.tensor(values).reshape(param.shape))
model.to(device)

loss_fn = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
losses = []
for step in tqdm(range(150), desc="training", disable=None):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if step % 50 == 0:
        print(f"step {step:3d}  loss {loss.item():.5f}")

with torch.no_grad():
    predicted = model(x).argmax(1)
correct = sum(int(p == t) for p, t in zip(predicted.tolist(), y.tolist()))
print(f"final loss {losses[-1]:.5f}, accuracy {correct}/{len(labels)}")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # optional: no plot
    plt = None
if plt is not None:
    plt.plot(losses)
    plt.xlabel("step")
    plt.ylabel("cross-entropy")
    plt.savefig("mlp_loss.png")
    print("loss curve saved to mlp_loss.png")
