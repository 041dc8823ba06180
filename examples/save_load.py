"""Checkpointing: train, save model and optimizer state, load them into fresh objects, and carry
on exactly where training stopped. cygrad writes safetensors files (no pickle); the same program
runs with `import torch` (tests/test_examples.py checks that both print the same numbers)."""
import math
import os
import tempfile

import cygrad as torch

inputs = torch.tensor([[math.sin(i * 0.3), math.cos(i * 0.7)] for i in range(32)])
targets = (inputs[:, :1] * 3 - inputs[:, 1:] * 2).tanh()


def make():
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    with torch.no_grad():  # deterministic weights, identical in both libraries
        for index, param in enumerate(model.parameters()):
            values = [math.cos(0.9 * (index + 2) * (k + 1)) * 0.4 for k in range(param.numel())]
            param.copy_(torch.tensor(values).reshape(param.shape))
    return model, torch.optim.Adam(model.parameters(), lr=0.05)


def train(model, optimizer, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(inputs), targets)
        loss.backward()
        optimizer.step()
    return loss.item()


model, optimizer = make()
print(f"after 20 steps: loss {train(model, optimizer, 20):.6f}")
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "checkpoint")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
    checkpoint = torch.load(path)
restored, restored_optimizer = make()
restored.load_state_dict(checkpoint["model"])
restored_optimizer.load_state_dict(checkpoint["optimizer"])
print(f"restored, 20 more steps: loss {train(restored, restored_optimizer, 20):.6f}")
print(f"uninterrupted, 20 more steps: loss {train(model, optimizer, 20):.6f}")
