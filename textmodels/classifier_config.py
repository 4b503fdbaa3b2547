"""Every default of the text classifier, in one place: `TextClassifier` (Python) and ``textmodels
train-classifier`` (its options' defaults) both read `DEFAULTS`, so the two never drift apart.

Free of Keras, so the command line can read it without importing TensorFlow. The values were chosen by
measurement (docs/text_classification.md has the runs): the first 10,000 lines of SST-2's training set,
scored on its dev set, and 10-fold movie_reviews for long documents.

Example:
    >>> DEFAULTS.model, DEFAULTS.epochs, DEFAULTS.patience
    ('auto', 10, 3)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClassifierConfig:
    """The settings of a text classifier and of its training.

    The encoder's shape (``level``, ``embedding_dim``, ``units``, ``cell``, ``layers``, ``bidirectional``)
    is None in `TextClassifier`'s signature and on the command line: None means the value here, or the
    language model's when the classifier starts from one (``init_from``).

    Example:
        >>> ClassifierConfig(units=128).units, ClassifierConfig().units
        (128, 64)
    """

    # --- Network -------------------------------------------------------------------------------------------
    # "textrnn" (embedding -> recurrent block -> pooling -> dense), "textcnn" (Kim 2014), "bag" (mean of word and
    # word n-gram embeddings -> dense: fastText) or "auto": "bag" for long documents (the median training text
    # over LONG_DOCUMENT_WORDS words), else "textrnn" (always "textrnn" when starting from a language model or
    # from word vectors). Why, measured: docs/text_classification.md ("Long documents: a bag of n-grams").
    model: str = "auto"
    # Tokens: "word" or "char".
    level: str = "word"
    embedding_dim: int = 128
    # Recurrent units per layer (and per direction).
    units: int = 64
    cell: str = "lstm"
    layers: int = 1
    bidirectional: bool = True
    # How the recurrent outputs become one vector: "last" | "mean" | "max" | "topk" | "attention".
    pooling: str = "max"
    # k of "topk" pooling; width of the "attention" scorer.
    k: int = 2
    attention_units: int = 64
    # "bag": the longest word n-grams that join the words (an n-gram needs two training occurrences).
    ngrams: int = 2
    # TextCNN: feature maps per filter width.
    filter_widths: tuple[int, ...] = (3, 4, 5)
    filters: int = 100

    # --- Regularisation ------------------------------------------------------------------------------------
    # Dropout on the pooled vector (before the output layer), on the embedded tokens, on the recurrent state.
    dropout: float = 0.5
    embedding_dropout: float = 0.5
    recurrent_dropout: float = 0.0
    # Share of training tokens replaced by <unk>: trains the <unk> row that unseen test words fall on.
    token_dropout: float = 0.25

    # --- Text ----------------------------------------------------------------------------------------------
    lowercase: bool | None = None
    min_count: int = 1
    max_vocabulary: int | None = None
    # Longest sequence kept, in tokens; None: chosen from the training texts (see TextClassifier).
    max_length: int | None = None

    # --- Training ------------------------------------------------------------------------------------------
    optimizer: str = "adam"
    # None: the optimizer's own (1e-3 for Adam); 1e-2 for "bag" with Adam or RMSprop
    # (classifier_network.BAG_LEARNING_RATE).
    learning_rate: float | None = None
    clipnorm: float | None = 5.0
    batch_size: int = 32
    epochs: int = 10
    # Stop after this many epochs without a better validation loss and keep the best epoch's weights.
    patience: int = 3
    # Share of the training data held out for that stopping rule when no validation data is given.
    validation_fraction: float = 0.1

    # --- Starting from a pretrained language model (init_from) ----------------------------------------------
    # Epochs of language-model training on the task's own texts before the transfer (ULMFiT's second stage).
    lm_epochs: int = 0
    # Epoch 0 trains the head only; every later epoch unfreezes one more layer, top down.
    gradual_unfreezing: bool = False
    # Each layer below the head learns this many times slower than the one above it (ULMFiT: 2.6); None: one
    # rate for all.
    layer_rate_decay: float | None = None
    problem: str | None = None
    threshold: float = 0.5


DEFAULTS = ClassifierConfig()
# The values of ``model``.
MODELS = ("auto", "textrnn", "textcnn", "bag")
# model="auto" takes "bag" when the median training text has more words than this.
LONG_DOCUMENT_WORDS = 100
