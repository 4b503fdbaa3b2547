"""A bidirectional recurrent sequence tagger: one softmax over tags per token (many-to-many, aligned)."""

from __future__ import annotations

import keras
from keras import ops

from textmodels.classification.labeled_text_model import LabeledTextModel
from textmodels.layers import RecurrentBlock, TextEmbedding


@keras.saving.register_keras_serializable(package="textmodels")
class RecurrentTagger(LabeledTextModel):
    """Tags every token of ``(batch, time, 3)`` [word, suffix, shape] ids (see `TokenFeatures`); a step whose
    word id is 0 is padding: it is masked in the recurrent block and its output is ignored by the loss.

    Args:
        vocabulary_size, suffix_vocabulary_size, num_shapes: sizes of the three embedding tables.
        num_labels: number of tags.
        embedding_dim, suffix_dim, shape_dim: embedding widths (concatenated per token).
        units, cell, layers: the bidirectional `RecurrentBlock`.
        dropout: on the token vectors and on the recurrent outputs.

    Example:
        >>> import numpy as np
        >>> tagger = RecurrentTagger(20, 10, 9, num_labels=4, embedding_dim=8, units=4)
        >>> tagger(np.ones((2, 5, 3), "int32")).shape
        TensorShape([2, 5, 4])
    """

    def __init__(
        self,
        vocabulary_size: int,
        suffix_vocabulary_size: int,
        num_shapes: int,
        num_labels: int,
        embedding_dim: int = 100,
        suffix_dim: int = 32,
        shape_dim: int = 8,
        units: int = 64,
        cell: str = "lstm",
        layers: int = 1,
        dropout: float = 0.3,
        **kwargs,
    ):
        kwargs.setdefault("problem", "tagging")
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.suffix_vocabulary_size = suffix_vocabulary_size
        self.num_shapes = num_shapes
        self.num_labels = num_labels
        self.embedding_dim = embedding_dim
        self.suffix_dim = suffix_dim
        self.shape_dim = shape_dim
        self.units = units
        self.cell = cell
        self.layers_count = layers
        self.dropout_rate = dropout

        self.word_embedding = TextEmbedding(vocabulary_size, embedding_dim, name="word_embedding")
        self.suffix_embedding = TextEmbedding(suffix_vocabulary_size, suffix_dim, name="suffix_embedding")
        self.shape_embedding = TextEmbedding(num_shapes, shape_dim, name="shape_embedding")
        self.input_dropout = keras.layers.Dropout(dropout, name="input_dropout")
        self.recurrent = RecurrentBlock(units, cell=cell, layers=layers, bidirectional=True, name="recurrent")
        self.output_dropout = keras.layers.Dropout(dropout, name="output_dropout")
        self.classifier = keras.layers.Dense(num_labels, activation="softmax", name="classifier")

    def build(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        for embedding in (self.word_embedding, self.suffix_embedding, self.shape_embedding):
            embedding.build((batch, steps))
        token_shape = (batch, steps, self.embedding_dim + self.suffix_dim + self.shape_dim)
        self.recurrent.build(token_shape)
        self.classifier.build((batch, steps, self.recurrent.output_dim))
        self.built = True

    def call(self, inputs, training=None):
        words, suffixes, shapes = inputs[..., 0], inputs[..., 1], inputs[..., 2]
        mask = ops.not_equal(words, 0)
        tokens = ops.concatenate(
            [self.word_embedding(words), self.suffix_embedding(suffixes), self.shape_embedding(shapes)], axis=-1
        )
        hidden = self.recurrent(self.input_dropout(tokens, training=training), mask=mask, training=training)
        return self.classifier(self.output_dropout(hidden, training=training))

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "suffix_vocabulary_size": self.suffix_vocabulary_size,
            "num_shapes": self.num_shapes,
            "num_labels": self.num_labels,
            "embedding_dim": self.embedding_dim,
            "suffix_dim": self.suffix_dim,
            "shape_dim": self.shape_dim,
            "units": self.units,
            "cell": self.cell,
            "layers": self.layers_count,
            "dropout": self.dropout_rate,
        }
