"""nn.Linear(1, 1) fitted to y = 3x + 1 with SGD and MSELoss; its state_dict is saved, loaded into
a fresh model, and the fresh model predicts x = 5. cygrad writes a safetensors file (no pickle);
with `import torch` the same program uses torch.save/torch.load and prints the same numbers.
`python save_load.py cuda` runs it on the GPU."""
import os
import sys
import tempfile

import cygrad as torch

device = sys.argv[1] if len(sys.argv) > 1 else "cpu"
x = torch.tensor([[0.0], [1.0], [2.0], [3.0]], device=device)
y = 3 * x + 1

model = torch.nn.Linear(1, 1)
with torch.no_grad():  # a fixed start, so that both libraries print the same numbers
    model.weight.fill_(0.5)
    model.bias.fill_(0.0)
model.to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
loss_fn = torch.nn.MSELoss()
for epoch in range(300):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
print(f"trained: loss {loss.item():.6f}")

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "linear.pt")
    torch.save(model.state_dict(), path)
    fresh = torch.nn.Linear(1, 1).to(device)
    fresh.load_state_dict(torch.load(path, map_location=device))

with torch.no_grad():
    print(f"fresh model's prediction for x = 5: {fresh(torch.tensor([[5.0]], device=device)).item():.4f}")
