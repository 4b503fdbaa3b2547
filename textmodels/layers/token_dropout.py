"""Token dropout: during training, replace a random share of the real tokens with ``<unk>``."""

from __future__ import annotations

import keras
from keras import ops

from textmodels.errors import DROPOUT_RATE, check
from textmodels.text.vocabulary import RESERVED, Vocabulary


@keras.saving.register_keras_serializable(package="textmodels")
class TokenDropout(keras.layers.Layer):
    """Replaces each real token id (not padding, not a reserved marker) by ``<unk>`` with probability ``rate``
    in training; the identity at inference.

    Why: a classifier trained with ``min_count=1`` never sees ``<unk>``, so the words it meets only at test time
    all land on an untrained, random embedding row. Dropping words to ``<unk>`` trains that row as "some word",
    and stops the network from leaning on any single word (word dropout, Iyyer et al. 2015; Dai & Le 2015).

    Args:
        rate: the share of tokens replaced, in [0, 1).
        seed: seed of the random draws.

    Example:
        >>> import numpy as np
        >>> ids = np.array([[5, 6, 7, 8, 0, 0]])
        >>> layer = TokenDropout(0.5, seed=1)
        >>> keras.ops.convert_to_numpy(layer(ids)).tolist()  # inference: unchanged
        [[5, 6, 7, 8, 0, 0]]
        >>> dropped = keras.ops.convert_to_numpy(layer(ids, training=True))
        >>> set(dropped[0, :4].tolist()) <= {1, 5, 6, 7, 8}, dropped[0, 4:].tolist()
        (True, [0, 0])
    """

    def __init__(self, rate: float = 0.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        check("token dropout rate", rate, DROPOUT_RATE)
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        inputs = ops.convert_to_tensor(inputs)
        real_words = ops.greater_equal(inputs, len(RESERVED))
        hit = ops.less(keras.random.uniform(ops.shape(inputs), seed=self.seed_generator), self.rate)
        return ops.where(ops.logical_and(real_words, hit), ops.cast(Vocabulary.unk_id, inputs.dtype), inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
