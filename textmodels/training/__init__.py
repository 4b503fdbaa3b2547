"""Training support shared by every model: clipped optimizers and resumable, NaN-safe training runs."""

from textmodels.training.optimizers import make_optimizer
from textmodels.training.training_run import CheckpointError, TrainingDiverged, TrainingRun

__all__ = ["CheckpointError", "TrainingDiverged", "TrainingRun", "make_optimizer"]
