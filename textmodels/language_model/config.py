"""Every default of language-model training in one place: `train_language_model` takes its defaults from
`LM_DEFAULTS`, and so do the options of ``textmodels train-lm``. Free of Keras, so ``--help`` stays instant.

The defaults are Zaremba et al.'s small PTB model (2 layers of 200 units, 20 streams of 20 steps, 13 epochs)
with Adam instead of their decayed SGD (which `textmodels.language_model.training` reaches with
``optimizer="sgd", learning_rate=1, lr_decay=0.5, decay_after=4, init_scale=0.1``).

Example:
    >>> LM_DEFAULTS.epochs, LM_DEFAULTS.num_steps, LM_DEFAULTS.units
    (13, 20, 200)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageModelConfig:
    """The settings of `train_language_model` that have defaults (see its docstring for their meaning).

    Example:
        >>> LanguageModelConfig(level="char").level
        'char'
    """

    level: str = "word"
    regime: str = "stream"
    word_tokenizer: str = "whitespace"
    lowercase: bool = False
    min_count: int = 1
    max_vocabulary: int | None = None
    cell: str = "lstm"
    layers: int = 2
    units: int = 200
    embedding_dim: int | None = None  # None: ``units``
    dropout: float = 0.0
    tie_embeddings: bool = False
    batch_size: int = 20
    num_steps: int = 20
    max_length: int | None = None
    epochs: int = 13
    optimizer: str = "adam"
    learning_rate: float | None = None  # None: the optimizer's own
    clipnorm: float | None = 5.0
    lr_decay: float | None = None
    decay_after: int = 0
    init_scale: float | None = None
    patience: int | None = None  # None: never stop early
    seed: int = 0


LM_DEFAULTS = LanguageModelConfig()
