"""TextBag: a neural bag of n-grams (fastText, Joulin et al. 2017): the mean of the embeddings of a text's words and
word n-grams, dropout, dense. Order-free, so it reads a 2,000-word review whole, at a fraction of an RNN's cost;
on long documents with little training data it beats the recurrent classifiers (docs/text_classification.md)."""

from __future__ import annotations

import keras
from keras import ops

from textmodels.classification.labeled_text_model import LabeledTextModel
from textmodels.errors import ConfigurationError
from textmodels.layers import SequencePooling, TextEmbedding


@keras.saving.register_keras_serializable(package="textmodels")
class TextBag(LabeledTextModel):
    """The mean embedding of the ids of a `TextEncoder` with ``ngrams`` > 1 (words and their n-grams), then
    dropout and the output layer. Padding (id 0) is left out of the mean, so it never changes the output.

    Args:
        vocabulary_size, num_labels, embedding_dim: as in `TextRNN`.
        dropout: on the mean embedding.
        text_encoder, label_names, problem, threshold: see `LabeledTextModel`.

    Example:
        >>> import numpy as np
        >>> model = TextBag(50, 2, embedding_dim=8, problem="binary", label_names=["neg", "pos"])
        >>> a, b = model(np.array([[5, 6, 0]])), model(np.array([[5, 6, 0, 0, 0]]))
        >>> tuple(a.shape), bool(np.allclose(a, b))
        ((1, 1), True)
    """

    def __init__(self, vocabulary_size: int, num_labels: int, embedding_dim: int = 128, dropout: float = 0.5,
                 **kwargs):
        super().__init__(**kwargs)
        if num_labels < 2 and self.problem != "multilabel":
            raise ConfigurationError(f"A classifier needs at least 2 labels, got {num_labels}.")
        self.vocabulary_size = vocabulary_size
        self.num_labels = num_labels
        self.embedding_dim = embedding_dim
        self.dropout_rate = dropout
        self.embedding = TextEmbedding(vocabulary_size, embedding_dim, name="embedding")
        self.pooling = SequencePooling("mean", name="pooling")
        self.pooled_dropout = keras.layers.Dropout(dropout, name="pooled_dropout")
        self.classifier = self.output_layer(num_labels)

    def build(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        self.embedding.build((batch, steps))
        self.pooling.build((batch, steps, self.embedding_dim))
        self.classifier.build((batch, self.embedding_dim))
        self.built = True

    def call(self, inputs, training=None):
        pooled = self.pooling(self.embedding(inputs), mask=ops.not_equal(inputs, 0))
        return self.classifier(self.pooled_dropout(pooled, training=training))

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "num_labels": self.num_labels,
            "embedding_dim": self.embedding_dim,
            "dropout": self.dropout_rate,
        }
