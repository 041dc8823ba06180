"""Linear regression by hand: the classic first PyTorch tutorial, unchanged but for the import.

Fits y = 2x + 1 with a weight and a bias, gradient descent written out under no_grad. Run with
`python examples/linear_regression.py`; replace the import by `import torch` and it prints the
same numbers (tests/test_examples.py checks that)."""
import cygrad as torch

xs = torch.tensor([[0.0], [1.0], [2.0], [3.0], [4.0]])
ys = 2 * xs + 1

w = torch.tensor([[0.5]], requires_grad=True)
b = torch.zeros(1, requires_grad=True)
learning_rate = 0.02

for epoch in range(200):
    prediction = xs @ w + b
    loss = ((prediction - ys) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= learning_rate * w.grad
        b -= learning_rate * b.grad
        w.grad.zero_()
        b.grad.zero_()
    if epoch % 50 == 0:
        print(f"epoch {epoch:3d}  loss {loss.item():.6f}")

print(f"w = {w.item():.5f}, b = {b.item():.5f}")
