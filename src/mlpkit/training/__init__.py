"""The training loop and its collaborators: early stopping, divergence detection, callbacks,
the per-epoch History, checkpoints and resume, progress bars.

:func:`train` repeats the lecture's step (forward, loss, backward, optimiser step) over shuffled
batches and epochs; everything else here decides when to stop and records what happened.
"""

from .callbacks import Callback, LambdaCallback
from .checkpoint import CheckpointLockedError, CheckpointMismatchError, TrainingInterrupted
from .divergence import TrainingDivergedError
from .early_stopping import EarlyStopping
from .history import History
from .lbfgs import LBFGSResult, train_lbfgs
from .loop import train

__all__ = [
    "Callback",
    "CheckpointLockedError",
    "CheckpointMismatchError",
    "EarlyStopping",
    "History",
    "LBFGSResult",
    "LambdaCallback",
    "TrainingDivergedError",
    "TrainingInterrupted",
    "train",
    "train_lbfgs",
]
