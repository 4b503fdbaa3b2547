"""Language-model pretraining reused by classifiers and taggers: the weights and vocabulary copied from a
`LanguageModel` (`textmodels.transfer.pretrained_encoder`) and what was copied (`TransferReport`).

Example:
    >>> from textmodels.transfer import MIN_COVERAGE
    >>> MIN_COVERAGE
    0.5
"""

from textmodels.transfer.pretrained_encoder import (
    ENCODER_SETTINGS,
    MIN_COVERAGE,
    copy_embedding,
    copy_recurrent_layers,
    encoder_settings,
    extended_vocabulary,
    fine_tune_language_model,
    load_language_model,
    resolve_encoder_settings,
    transfer_vocabulary,
)
from textmodels.transfer.transfer_report import TransferReport

__all__ = [
    "ENCODER_SETTINGS", "MIN_COVERAGE", "TransferReport", "copy_embedding", "copy_recurrent_layers",
    "encoder_settings", "extended_vocabulary", "fine_tune_language_model", "load_language_model",
    "resolve_encoder_settings", "transfer_vocabulary",
]
