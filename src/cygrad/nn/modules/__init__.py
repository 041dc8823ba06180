from cygrad.nn.modules.activation import (
    ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh,
)
from cygrad.nn.modules.container import ModuleDict, ModuleList, Sequential
from cygrad.nn.modules.linear import Identity, Linear
from cygrad.nn.modules.misc import Dropout, Flatten
from cygrad.nn.modules.module import Module
from cygrad.nn.modules.loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss,
)
from cygrad.nn.modules.normalization import BatchNorm1d, LayerNorm
from cygrad.nn.modules.sparse import Embedding
from cygrad.nn.modules.conv import Conv2d, MaxPool2d
