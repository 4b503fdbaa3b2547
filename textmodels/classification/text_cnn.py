"""TextCNN (Kim 2014): parallel convolutions of several widths, masked max-over-time pooling, dropout, dense."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

from textmodels.classification.labeled_text_model import LabeledTextModel
from textmodels.classification.text_rnn import assign_embedding_matrix
from textmodels.errors import ConfigurationError, check_choice
from textmodels.layers import SequencePooling, TextEmbedding

CNN_EMBEDDINGS = ("rand", "static", "non-static", "multichannel")


@keras.saving.register_keras_serializable(package="textmodels")
class TextCNN(LabeledTextModel):
    """Kim (2014)'s sentence CNN over post-padded token ids.

    Every filter width ``w`` sees the text followed by ``w - 1`` zero vectors, and only windows that start on a
    real token are pooled, so padding never changes the output and texts shorter than a filter still work.

    Args:
        vocabulary_size, num_labels, embedding_dim: as in `TextRNN`.
        embedding: ``rand`` | ``static`` | ``non-static`` | ``multichannel`` (a frozen and a fine-tuned copy
            of the pretrained vectors; each filter reads both). All but ``rand`` expect `set_embedding_matrix`.
        filter_widths, filters: ``filters`` feature maps per width (Kim: 3/4/5 x 100), ReLU.
        dropout: on the pooled features (Kim: 0.5).

    Example:
        >>> import numpy as np
        >>> model = TextCNN(50, 2, embedding_dim=8, filters=4, problem="binary", label_names=["neg", "pos"])
        >>> model(np.array([[5, 6, 0, 0]])).shape
        TensorShape([1, 1])
    """

    def __init__(
        self,
        vocabulary_size: int,
        num_labels: int,
        embedding_dim: int = 128,
        embedding: str = "rand",
        filter_widths: Sequence[int] = (3, 4, 5),
        filters: int = 100,
        dropout: float = 0.5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("TextCNN embedding", embedding, CNN_EMBEDDINGS, kinds="embeddings")
        if not filter_widths or any(int(width) < 1 for width in filter_widths):
            raise ConfigurationError(f"filter_widths must be positive integers, got {list(filter_widths)}.")
        self.vocabulary_size = vocabulary_size
        self.num_labels = num_labels
        self.embedding_dim = embedding_dim
        self.embedding_kind = embedding
        self.filter_widths = tuple(int(width) for width in filter_widths)
        self.filters = filters
        self.dropout_rate = dropout

        if embedding == "multichannel":
            self.embedding = TextEmbedding(vocabulary_size, embedding_dim, mode="non-static", name="embedding")
            self.static_embedding = TextEmbedding(
                vocabulary_size, embedding_dim, mode="static", name="static_embedding"
            )
        else:
            self.embedding = TextEmbedding(vocabulary_size, embedding_dim, mode=embedding, name="embedding")
            self.static_embedding = None
        self.convolutions = [
            keras.layers.Conv1D(filters, width, activation="relu", name=f"conv_{width}") for width in self.filter_widths
        ]
        self.pooling = SequencePooling("max", name="max_over_time")
        self.pooled_dropout = keras.layers.Dropout(dropout, name="pooled_dropout")
        self.classifier = self.output_layer(num_labels)

    def build(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        self.embedding.build((batch, steps))
        if self.static_embedding is not None:
            self.static_embedding.build((batch, steps))
        for convolution in self.convolutions:
            convolution.build((batch, None, self.embedding_dim))
        self.classifier.build((batch, self.filters * len(self.filter_widths)))
        self.built = True

    def call(self, inputs, training=None):
        mask = ops.not_equal(inputs, 0)
        x = self.embedding(inputs)
        if self.static_embedding is not None:
            # A filter applied to both channels and summed (Kim's multichannel) equals the filter applied to the
            # sum of the channels, because convolution is linear; only the non-static channel gets gradients.
            x = x + self.static_embedding(inputs)
        x = x * ops.expand_dims(ops.cast(mask, x.dtype), -1)
        features = []
        for width, convolution in zip(self.filter_widths, self.convolutions):
            padded = ops.pad(x, ((0, 0), (0, width - 1), (0, 0)))
            features.append(self.pooling(convolution(padded), mask=mask))
        pooled = ops.concatenate(features, axis=-1)
        return self.classifier(self.pooled_dropout(pooled, training=training))

    def set_embedding_matrix(self, matrix) -> None:
        """Loads pretrained vectors into the embedding (both channels for ``multichannel``)."""
        assign_embedding_matrix(self.embedding, matrix)
        if self.static_embedding is not None:
            assign_embedding_matrix(self.static_embedding, matrix)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "num_labels": self.num_labels,
            "embedding_dim": self.embedding_dim,
            "embedding": self.embedding_kind,
            "filter_widths": list(self.filter_widths),
            "filters": self.filters,
            "dropout": self.dropout_rate,
        }
