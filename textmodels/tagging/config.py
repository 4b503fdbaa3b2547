"""Every default of a part-of-speech tagger in one place: `SequenceTagger` (its constructor, ``fit`` and
``fit_in_run``) takes its defaults from `TAGGER_DEFAULTS`, and so do the options of ``textmodels train-tagger``.
Free of Keras, so ``--help`` stays instant.

Example:
    >>> TAGGER_DEFAULTS.units, TAGGER_DEFAULTS.epochs, TAGGER_DEFAULTS.patience
    (64, 10, 3)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaggerConfig:
    """The settings of `SequenceTagger` and of its training that have defaults (see `SequenceTagger`).

    Example:
        >>> TaggerConfig(units=128).units
        128
    """

    embedding_dim: int = 100
    suffix_dim: int = 32
    shape_dim: int = 8
    units: int = 64
    cell: str = "lstm"
    layers: int = 1
    dropout: float = 0.3
    min_count: int = 2
    suffix_length: int = 3
    max_length: int | None = None
    optimizer: str = "adam"
    learning_rate: float | None = None  # None: the optimizer's own
    clipnorm: float | None = 5.0
    batch_size: int = 32
    epochs: int = 10
    patience: int | None = 3  # epochs without a better validation loss before training stops; None: never


TAGGER_DEFAULTS = TaggerConfig()
