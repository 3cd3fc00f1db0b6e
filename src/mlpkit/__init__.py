"""mlpkit: feedforward neural networks trained by backpropagation, as the lectures teach them.

The public names follow the data flow: activations and initialisers make layers, layers make a
network, a loss gives the output error, backpropagation the gradients, an optimiser the update,
and the training loop repeats that and reports a History.
"""

from .data import (
    IDXFormatError,
    read_idx,
    write_idx,
    DatasetChecksumError,
    DatasetNotFoundError,
    load_csv,
    load_digits,
    load_fashion_mnist,
    load_image_folder,
    load_mnist,
    Standardizer,
    one_hot,
    train_test_split,
)
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
from .training import (
    Callback,
    CheckpointLockedError,
    CheckpointMismatchError,
    EarlyStopping,
    History,
    LambdaCallback,
    TrainingDivergedError,
    TrainingInterrupted,
    train,
)
from .metrics import accuracy, classification_report, confusion_matrix
from .gradcheck import GradientCheckReport, check_gradients, gradient_check, numerical_gradients
from .lectures import (
    LECTURES,
    NotLinearlySeparableWarning,
    Perceptron,
    StepTrace,
    backprop_gradients,
    forward_mode_gradients,
    lecture,
    logic_gate_network,
    operation_counts,
    trace_step,
    worked_example,
)
from .validation import InvalidInputError, check_model_size
from .io import ModelFileError, UnsupportedFormatVersion, load, read_model_file, save
from .io.onnx import export_onnx  # imports the onnx package only when called

#: The version, written only here: pyproject.toml reads it (dynamic = ["version"]), and
#: `mlpkit --version`, model files and CHANGELOG.md follow it.
__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "LECTURES",
    "LOSSES",
    "OPTIMIZERS",
    "SGD",
    "AbsoluteError",
    "Activation",
    "Adam",
    "BinaryCrossEntropy",
    "Callback",
    "CheckpointLockedError",
    "CheckpointMismatchError",
    "Constant",
    "CrossEntropy",
    "DatasetChecksumError",
    "DatasetNotFoundError",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "GradientCheckReport",
    "History",
    "IDXFormatError",
    "Identity",
    "InvalidInputError",
    "InverseScaling",
    "LambdaCallback",
    "LeakyReLU",
    "Loss",
    "ModelFileError",
    "Network",
    "NotLinearlySeparableWarning",
    "Optimizer",
    "Perceptron",
    "ReLU",
    "ReduceOnPlateau",
    "Schedule",
    "Sigmoid",
    "Softmax",
    "SquaredError",
    "Standardizer",
    "Step",
    "StepDecay",
    "StepTrace",
    "Tanh",
    "TrainingDivergedError",
    "TrainingInterrupted",
    "UnsupportedFormatVersion",
    "__version__",
    "accuracy",
    "backprop_gradients",
    "check_gradients",
    "check_model_size",
    "classification_report",
    "confusion_matrix",
    "export_onnx",
    "forward_mode_gradients",
    "get_activation",
    "get_initializer",
    "get_loss",
    "get_optimizer",
    "gradient_check",
    "lecture",
    "load",
    "load_csv",
    "load_digits",
    "load_fashion_mnist",
    "load_image_folder",
    "load_mnist",
    "logic_gate_network",
    "mlp",
    "numerical_gradients",
    "one_hot",
    "operation_counts",
    "read_idx",
    "read_model_file",
    "save",
    "trace_step",
    "train",
    "train_test_split",
    "worked_example",
    "write_idx",
]
