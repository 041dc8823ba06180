"""cygrad.nn: modules, parameters, initializers and the functional forms (torch.nn)."""
from cygrad.nn import functional, init
from cygrad.nn.modules import (
    BatchNorm1d, ELU, GELU, LeakyReLU, SiLU, Softplus, BCELoss, BCEWithLogitsLoss, Conv2d, CrossEntropyLoss, LayerNorm, Dropout, Embedding, MaxPool2d, Flatten, Identity, L1Loss, Linear,
    LogSoftmax, Module, ModuleDict, ModuleList, MSELoss, NLLLoss, ReLU, Sequential, Sigmoid,
    SmoothL1Loss, Softmax, Tanh,
)
from cygrad.nn import utils
from cygrad.nn.parameter import Parameter
