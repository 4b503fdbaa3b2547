"""Training support shared by every model: clipped optimizers and resumable, NaN-safe training runs, and
`train_in_run`, the one training path of every model (run folder, checkpoints, resume, best epoch to ``out``)."""

from textmodels.training.optimizers import make_optimizer
from textmodels.training.training_run import (
    CheckpointError,
    TrainedRun,
    TrainingDiverged,
    TrainingRun,
    run_directory_for,
    train_in_run,
)

__all__ = ["CheckpointError", "TrainedRun", "TrainingDiverged", "TrainingRun", "make_optimizer", "run_directory_for",
           "train_in_run"]
