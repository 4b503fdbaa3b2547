"""TextRNN: embedding -> recurrent block -> masked pooling -> dense output, for text classification."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from textmodels.classification.labeled_text_model import LabeledTextModel
from textmodels.errors import ConfigurationError, check_choice
from textmodels.layers import AttentionPooling, RecurrentBlock, SequencePooling, TextEmbedding, TokenDropout

TEXT_RNN_POOLING = ("last", "mean", "max", "topk", "attention")


@keras.saving.register_keras_serializable(package="textmodels")
class TextRNN(LabeledTextModel):
    """A recurrent text classifier over post-padded token ids (0 = padding, which never changes the output).

    Args:
        vocabulary_size: rows of the embedding table.
        num_labels: number of classes (labels for ``multilabel``); 2 for ``binary``.
        embedding_dim, embedding_mode: the `TextEmbedding` (``rand`` | ``static`` | ``non-static``; the last two
            expect `set_embedding_matrix` with pretrained vectors).
        units, cell, layers, bidirectional, recurrent_dropout: the `RecurrentBlock`.
        pooling: ``last`` | ``mean`` | ``max`` | ``topk`` (k-max, ``k``) | ``attention`` (``attention_units``).
        dropout: on the pooled vector; ``embedding_dropout`` on the embedded tokens; ``token_dropout``: the share
            of training tokens replaced by ``<unk>`` (`TokenDropout`).
        text_encoder, label_names, problem, threshold: see `LabeledTextModel`.

    Example:
        >>> import numpy as np
        >>> model = TextRNN(50, 3, embedding_dim=8, units=4, pooling="attention")
        >>> model(np.array([[5, 6, 0]])).shape
        TensorShape([1, 3])
    """

    def __init__(
        self,
        vocabulary_size: int,
        num_labels: int,
        embedding_dim: int = 128,
        embedding_mode: str = "rand",
        units: int = 64,
        cell: str = "lstm",
        layers: int = 1,
        bidirectional: bool = True,
        pooling: str = "max",
        k: int = 2,
        attention_units: int = 64,
        dropout: float = 0.5,
        embedding_dropout: float = 0.2,
        recurrent_dropout: float = 0.0,
        token_dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("pooling", pooling, TEXT_RNN_POOLING, kinds="poolings")
        if num_labels < 2 and self.problem != "multilabel":
            raise ConfigurationError(f"A classifier needs at least 2 labels, got {num_labels}.")
        self.vocabulary_size = vocabulary_size
        self.num_labels = num_labels
        self.embedding_dim = embedding_dim
        self.embedding_mode = embedding_mode
        self.units = units
        self.cell = cell
        self.layers_count = layers
        self.bidirectional = bidirectional
        self.pooling_mode = pooling
        self.k = k
        self.attention_units = attention_units
        self.dropout_rate = dropout
        self.embedding_dropout_rate = embedding_dropout
        self.recurrent_dropout = recurrent_dropout
        self.token_dropout_rate = token_dropout

        self.token_dropout = TokenDropout(token_dropout, name="token_dropout")
        self.embedding = TextEmbedding(vocabulary_size, embedding_dim, mode=embedding_mode, name="embedding")
        self.embedding_dropout = keras.layers.Dropout(embedding_dropout, name="embedding_dropout")
        self.recurrent = RecurrentBlock(
            units, cell=cell, layers=layers, bidirectional=bidirectional, recurrent_dropout=recurrent_dropout,
            name="recurrent",
        )
        if pooling == "attention":
            self.pooling = AttentionPooling(attention_units, name="pooling")
        else:
            self.pooling = SequencePooling(pooling, k=k, directions=2 if bidirectional else 1, name="pooling")
        self.pooled_dropout = keras.layers.Dropout(dropout, name="pooled_dropout")
        self.classifier = self.output_layer(num_labels)

    def build(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        self.embedding.build((batch, steps))
        sequence_shape = (batch, steps, self.embedding_dim)
        self.recurrent.build(sequence_shape)
        hidden_shape = self.recurrent.compute_output_shape(sequence_shape)
        self.pooling.build(hidden_shape)
        pooled_features = hidden_shape[-1] * (self.k if self.pooling_mode == "topk" else 1)
        self.classifier.build((batch, pooled_features))
        self.built = True

    def _encode(self, ids, training=None):
        mask = ops.not_equal(ids, 0)
        x = self.embedding_dropout(self.embedding(self.token_dropout(ids, training=training)), training=training)
        hidden = self.recurrent(x, mask=mask, training=training)
        if self.pooling_mode == "attention":
            return self.pooling(hidden, mask=mask)
        return self.pooling(hidden, mask=mask), None

    def call(self, inputs, training=None):
        pooled, _ = self._encode(inputs, training=training)
        return self.classifier(self.pooled_dropout(pooled, training=training))

    def attention_weights(self, ids) -> np.ndarray:
        """(batch, time) attention weights of ``ids`` (attention pooling only); padding gets 0."""
        if self.pooling_mode != "attention":
            raise ValueError(
                f"Attention weights need pooling='attention'; this model pools with {self.pooling_mode!r}."
            )
        _, weights = self._encode(ops.convert_to_tensor(ids, "int32"), training=False)
        return ops.convert_to_numpy(weights)

    def set_embedding_matrix(self, matrix: np.ndarray) -> None:
        """Loads pretrained vectors (``(vocabulary_size, embedding_dim)``) into the embedding table."""
        assign_embedding_matrix(self.embedding, matrix)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "num_labels": self.num_labels,
            "embedding_dim": self.embedding_dim,
            "embedding_mode": self.embedding_mode,
            "units": self.units,
            "cell": self.cell,
            "layers": self.layers_count,
            "bidirectional": self.bidirectional,
            "pooling": self.pooling_mode,
            "k": self.k,
            "attention_units": self.attention_units,
            "dropout": self.dropout_rate,
            "embedding_dropout": self.embedding_dropout_rate,
            "recurrent_dropout": self.recurrent_dropout,
            "token_dropout": self.token_dropout_rate,
        }


def assign_embedding_matrix(layer: TextEmbedding, matrix: np.ndarray) -> None:
    """Copies pretrained vectors into ``layer`` (building it if needed); the shape must match exactly.

    Example:
        >>> layer = TextEmbedding(3, 2)
        >>> assign_embedding_matrix(layer, np.ones((3, 2)))
        >>> float(layer.embeddings.numpy().sum())
        6.0
    """
    matrix = np.asarray(matrix, dtype="float32")
    expected = (layer.input_dim, layer.output_dim)
    if matrix.shape != expected:
        raise ValueError(f"Embedding matrix has shape {matrix.shape}; this model's embedding needs {expected}.")
    if not layer.built:
        layer.build((None, None))
    layer.embeddings.assign(matrix)
