"""cygrad.optim: torch.optim's optimizers and learning-rate schedulers. Each optimizer step
updates a parameter with one fused C kernel (csrc/optim.c)."""
from cygrad.optim import lr_scheduler
from cygrad.optim.adagrad import Adagrad
from cygrad.optim.adam import Adam
from cygrad.optim.adamw import AdamW
from cygrad.optim.optimizer import Optimizer
from cygrad.optim.rmsprop import RMSprop
from cygrad.optim.sgd import SGD

__all__ = ["Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "lr_scheduler"]
