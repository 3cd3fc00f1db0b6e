"""mlpkit: feedforward neural networks trained by backpropagation, as the lectures teach them.

The public names follow the data flow: activations and initialisers make layers, layers make a
network, a loss gives the output error, backpropagation the gradients, an optimiser the update,
and the training loop repeats that and reports a History.
"""

from .activations import (
    ACTIVATIONS,
    Activation,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Step,
    Tanh,
    get_activation,
)
from .initializers import INITIALIZERS, get_initializer
from .layers import Dense, Dropout
from .network import Network, mlp
from .losses import (
    LOSSES,
    AbsoluteError,
    BinaryCrossEntropy,
    CrossEntropy,
    Loss,
    SquaredError,
    get_loss,
)
from .optimizers import OPTIMIZERS, SGD, Adam, Optimizer, get_optimizer
from .schedules import Constant, InverseScaling, ReduceOnPlateau, Schedule, StepDecay
from .callbacks import Callback, LambdaCallback
from .history import History
from .training import EarlyStopping, TrainingDivergedError, train
from .metrics import accuracy, classification_report, confusion_matrix
from .gradcheck import check_gradients, numerical_gradients

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "LOSSES",
    "OPTIMIZERS",
    "SGD",
    "AbsoluteError",
    "Activation",
    "Adam",
    "BinaryCrossEntropy",
    "Callback",
    "Constant",
    "CrossEntropy",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "History",
    "Identity",
    "InverseScaling",
    "LambdaCallback",
    "LeakyReLU",
    "Loss",
    "Network",
    "Optimizer",
    "ReLU",
    "ReduceOnPlateau",
    "Schedule",
    "Sigmoid",
    "Softmax",
    "SquaredError",
    "Step",
    "StepDecay",
    "Tanh",
    "TrainingDivergedError",
    "__version__",
    "accuracy",
    "check_gradients",
    "classification_report",
    "confusion_matrix",
    "get_activation",
    "get_initializer",
    "get_loss",
    "get_optimizer",
    "mlp",
    "numerical_gradients",
    "train",
]
