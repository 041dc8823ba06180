"""Linear regression y = 2x with one weight, updated by hand through .data and .grad: the classic
first backpropagation tutorial, unchanged but for the import (swap it for `import torch` and the
program prints the same numbers; tests/test_examples.py checks that). `python linear_regression.py
cuda` runs it on the GPU."""
import sys

import cygrad as torch

device = sys.argv[1] if len(sys.argv) > 1 else "cpu"

xs = [1.0, 2.0, 3.0]
ys = [2.0, 4.0, 6.0]

w = torch.Tensor([1.0]).to(device)
w.requires_grad = True


def forward(x):
    return x * w


def loss_of(x, y):
    return (forward(x) - y) ** 2


print("prediction before training: f(4) =", round(forward(4).item(), 4))
for epoch in range(10):
    for x, y in zip(xs, ys):
        loss = loss_of(x, y)
        loss.backward()
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
    print(f"epoch {epoch}: loss {loss.item():.6f}")
print("prediction after training: f(4) =", round(forward(4).item(), 4))
