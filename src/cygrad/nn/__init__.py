"""cygrad.nn: modules, parameters, initializers and the functional forms (torch.nn)."""
from cygrad.nn import functional, init
from cygrad.nn.modules import (
    Dropout, Flatten, Identity, Linear, LogSoftmax, Module, ModuleDict, ModuleList, ReLU,
    Sequential, Sigmoid, Softmax, Tanh,
)
from cygrad.nn.parameter import Parameter
