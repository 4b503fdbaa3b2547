"""The caption decoder: word embedding + the shared recurrent layers, with five ways for the image to enter.

Injection modes (Tanti et al. 2018 name the last four; the first is this project's default):

- ``first_step``: the image, projected by ``V``, is added to the pre-activation of step 0 only:
  ``s_0 = tanh(U·x_0 + W·s_{-1} + V·img)``, later steps are plain ``s_t = tanh(U·x_t + W·s_{t-1})`` (shown for the
  simple cell; gated cells add ``V·img`` to every gate's step-0 pre-activation). ``V`` is factored as
  ``P·V'``: a bias-free projection ``P`` of the 4096-d feature to ``image_projection_dim`` followed by the
  recurrent block's injection kernel ``V'`` (`RecurrentBlock(injection_dim=...)`), which keeps the per-step
  input narrow. ``x_0`` is the ``<bos>`` embedding.
- ``init_state``: the projected image (tanh) is the initial state of every recurrent layer.
- ``pre_inject``: the projected image is the input at step -1, before ``<bos>`` (Show and Tell).
- ``par_inject``: the projected image is concatenated to the word embedding at every step.
- ``merge``: the recurrent layers never see the image; their output is concatenated with the projected image
  before the softmax.

In every mode ``img`` is the encoder's feature after the decoder's ``feature_normalization`` (`FEATURE_NORMALIZATIONS`):
``standardize`` (the default) centres and scales each dimension, ``(feature - mean) / std``, with the training
photos' statistics stored in the decoder (`CaptionDecoder.adapt_features`; the identity until then); ``l2`` divides
the raw feature by its Euclidean norm (Tanti et al.'s recipe); ``standardize_l2`` standardises, then divides by the
norm, so the image vector has the scale of a word embedding; ``none`` passes the raw feature.
Pretrained features are far from centred (MobileNetV2's pooled ReLU6 outputs are all positive, mean 0.47), so
the raw ``V·img`` is a large shared offset: at step 0 of ``first_step`` it drove the LSTM gates' pre-activations
to a mean |z| of about 60, where the gates saturate and no gradient reaches ``V`` (benchmarks/
first_step_saturation.py).

Decoding carries the recurrent state from one token to the next (`initial_decode_state` then `decode_step`):
the prefix is never re-run.

Example:
    >>> import numpy as np
    >>> decoder = CaptionDecoder(vocabulary_size=12, feature_dim=6, embedding_dim=4, units=5, cell="gru")
    >>> logits = decoder(np.ones((2, 6), "float32"), np.array([[2, 5, 7, 0], [2, 4, 0, 0]]))
    >>> tuple(logits.shape)
    (2, 4, 12)
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from textmodels.layers import RecurrentBlock, TextEmbedding

INJECT_MODES = ("first_step", "init_state", "pre_inject", "par_inject", "merge")
# How the image feature is normalised before its projection (see the module docstring).
FEATURE_NORMALIZATIONS = ("standardize", "l2", "standardize_l2", "none")


@keras.saving.register_keras_serializable(package="captioner")
class CaptionDecoder(keras.layers.Layer):
    """Image feature + caption prefix -> next-word logits, for training (whole sequences) and decoding (steps).

    Args:
        vocabulary_size: number of token ids (the softmax size).
        feature_dim: size of the image feature (4096 for VGG16's fc2).
        embedding_dim: word embedding size.
        units: recurrent state size.
        cell: ``simple`` | ``gru`` | ``lstm`` (any `RecurrentBlock` cell).
        layers: depth of the recurrent stack.
        inject: one of `INJECT_MODES`.
        dropout: dropout on the embeddings and the recurrent outputs while training.
        image_projection_dim: width of the projected image for ``first_step``, ``pre_inject`` and
            ``par_inject`` (default: ``embedding_dim``); ``merge`` projects to ``units`` and ``init_state`` to the
            total state size.
        feature_normalization: one of `FEATURE_NORMALIZATIONS`; files saved before the setting existed load as
            ``standardize`` (their statistics, or the identity, are in the file).

    Example:
        >>> import numpy as np
        >>> decoder = CaptionDecoder(10, feature_dim=3, embedding_dim=4, units=6, cell="lstm", inject="merge")
        >>> states, context = decoder.initial_decode_state(np.zeros((1, 3), "float32"))
        >>> logits, states = decoder.decode_step(np.array([2]), states, context, first=True)
        >>> tuple(logits.shape), len(states)
        ((1, 10), 2)
    """

    # Dimensions whose spread across the training photos is below this share of the median spread are scaled
    # as if they had it: a feature that is (nearly) constant in training would otherwise be blown up.
    MIN_RELATIVE_STD = 0.01

    def __init__(
        self,
        vocabulary_size: int,
        feature_dim: int,
        embedding_dim: int = 128,
        units: int = 256,
        cell: str = "lstm",
        layers: int = 1,
        inject: str = "first_step",
        dropout: float = 0.0,
        image_projection_dim: int | None = None,
        feature_normalization: str = "standardize",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if inject not in INJECT_MODES:
            raise ValueError(f"Unknown inject mode {inject!r}; valid modes: {', '.join(INJECT_MODES)}.")
        if feature_normalization not in FEATURE_NORMALIZATIONS:
            raise ValueError(f"Unknown feature_normalization {feature_normalization!r}; valid: "
                             f"{', '.join(FEATURE_NORMALIZATIONS)}.")
        for name, value in (("vocabulary_size", vocabulary_size), ("feature_dim", feature_dim),
                            ("embedding_dim", embedding_dim), ("units", units)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        self.vocabulary_size = vocabulary_size
        self.feature_dim = feature_dim
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.layers = layers
        self.inject = inject
        self.dropout = dropout
        self.image_projection_dim = image_projection_dim or embedding_dim
        self.feature_normalization = feature_normalization

        self.embedding = TextEmbedding(vocabulary_size, embedding_dim, name="embedding")
        self.rnn = RecurrentBlock(
            units, cell=cell, layers=layers,
            injection_dim=self.image_projection_dim if inject == "first_step" else 0, name="rnn",
        )
        self.state_size = layers * self.rnn.states_per_layer * units
        self.context_dim = {
            "first_step": self.image_projection_dim, "pre_inject": self.image_projection_dim,
            "par_inject": self.image_projection_dim, "merge": units, "init_state": self.state_size,
        }[inject]
        # first_step: no bias, so V·img is exactly P'·V'·img with nothing else added at step 0.
        self.image_projection = keras.layers.Dense(
            self.context_dim,
            activation="tanh" if inject == "init_state" else None,
            use_bias=inject != "first_step",
            name="image_projection",
        )
        self.embedding_dropout = keras.layers.Dropout(dropout)
        self.output_dropout = keras.layers.Dropout(dropout)
        self.output_layer = keras.layers.Dense(vocabulary_size, name="logits")
        # Created here, not in build: the decoding methods standardise features before any full call.
        self.feature_mean = self.add_weight(shape=(self.feature_dim,), initializer="zeros", trainable=False,
                                            name="feature_mean")
        self.feature_scale = self.add_weight(shape=(self.feature_dim,), initializer="ones", trainable=False,
                                             name="feature_scale")

    @property
    def rnn_input_dim(self) -> int:
        return self.embedding_dim + (self.context_dim if self.inject == "par_inject" else 0)

    @property
    def output_input_dim(self) -> int:
        return self.units + (self.context_dim if self.inject == "merge" else 0)

    def build(self, features_shape=None, tokens_shape=None):
        # Every size is known from the config, so the weights exist before any call (and before loading).
        for layer, shape in ((self.embedding, (None, None)), (self.image_projection, (None, self.feature_dim)),
                             (self.rnn, (None, None, self.rnn_input_dim)),
                             (self.output_layer, (None, None, self.output_input_dim))):
            if not layer.built:
                layer.build(shape)
        self.built = True

    def adapt_features(self, features) -> None:
        """Stores the per-dimension mean and inverse spread of ``features`` (N, feature_dim): the training photos'.

        Example:
            >>> import numpy as np
            >>> decoder = CaptionDecoder(10, feature_dim=2, embedding_dim=4, units=6)
            >>> decoder.adapt_features(np.array([[1.0, 5.0], [3.0, 5.0]]))
            >>> np.round(ops.convert_to_numpy(decoder.standardize(np.array([[3.0, 5.0]]))), 3)
            array([[1., 0.]], dtype=float32)
        """
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or features.shape[1] != self.feature_dim or len(features) == 0:
            raise ValueError(f"adapt_features needs an (N, {self.feature_dim}) array with N >= 1, "
                             f"got shape {features.shape}.")
        if not np.isfinite(features).all():
            raise ValueError("adapt_features got NaN or infinite feature values.")
        std = features.std(axis=0)
        floor = self.MIN_RELATIVE_STD * float(np.median(std))
        self.feature_mean.assign(features.mean(axis=0).astype("float32"))
        # With no spread at all (one photo, or all alike) the scale stays 1: centring only.
        self.feature_scale.assign((1.0 / np.maximum(std, floor) if floor > 0 else np.ones_like(std)).astype("float32"))

    def load_own_variables(self, store):
        # A file written before the feature statistics existed holds none of the decoder's own variables; its
        # model saw raw features, which the identity statistics (the initial values) reproduce exactly.
        if len(store.keys()) == 0:
            return
        super().load_own_variables(store)

    @property
    def uses_statistics(self) -> bool:
        """Whether `adapt_features` statistics enter ``img`` (they are stored either way)."""
        return self.feature_normalization in ("standardize", "standardize_l2")

    def standardize(self, features):
        """The features centred and scaled with the statistics of `adapt_features`."""
        return (ops.cast(features, "float32") - self.feature_mean) * self.feature_scale

    def normalize(self, features):
        """``img``: the features as the decoder's ``feature_normalization`` prepares them for the projection.

        Example:
            >>> import numpy as np
            >>> decoder = CaptionDecoder(10, feature_dim=2, embedding_dim=4, units=6, feature_normalization="l2")
            >>> [round(float(value), 3) for value in ops.convert_to_numpy(decoder.normalize(np.array([[3.0, 4.0]])))[0]]
            [0.6, 0.8]
        """
        features = self.standardize(features) if self.uses_statistics else ops.cast(features, "float32")
        if self.feature_normalization in ("l2", "standardize_l2"):
            norm = ops.sqrt(ops.sum(ops.square(features), axis=-1, keepdims=True))
            features = features / ops.maximum(norm, 1e-6)
        return features

    def _split_states(self, flat):
        return [flat[:, index * self.units : (index + 1) * self.units]
                for index in range(self.layers * self.rnn.states_per_layer)]

    def call(self, features, tokens, training=None):
        """Logits ``(batch, time, vocabulary_size)`` for every position of ``tokens`` (``<bos>`` first, 0 = pad).

        Position ``t`` predicts token ``t + 1`` (teacher forcing): feed ``ids[:, :-1]``, score ``ids[:, 1:]``.
        """
        tokens = ops.cast(tokens, "int32")
        mask = ops.not_equal(tokens, 0)
        words = self.embedding_dropout(self.embedding(tokens), training=training)
        context = self.image_projection(ops.cast(self.normalize(features), words.dtype))
        injection = initial_state = None
        if self.inject == "first_step":
            injection = context
        elif self.inject == "init_state":
            initial_state = self._split_states(context)
        elif self.inject == "pre_inject":
            words = ops.concatenate([ops.expand_dims(context, 1), words], axis=1)
            mask = ops.concatenate([ops.ones_like(mask[:, :1]), mask], axis=1)
        elif self.inject == "par_inject":
            words = ops.concatenate([words, self._along_time(context, words)], axis=-1)
        outputs = self.rnn(words, mask=mask, injection=injection, initial_state=initial_state, training=training)
        if self.inject == "pre_inject":
            outputs = outputs[:, 1:]
        if self.inject == "merge":
            outputs = ops.concatenate([outputs, self._along_time(context, outputs)], axis=-1)
        return self.output_layer(self.output_dropout(outputs, training=training))

    @staticmethod
    def _along_time(vector, sequence):
        return ops.zeros_like(sequence[:, :, :1]) + ops.expand_dims(vector, 1)

    def initial_decode_state(self, features):
        """``(states, context)`` before ``<bos>`` is read: the flat recurrent states and the projected image.

        For ``pre_inject`` the states already include step -1 (the image); ``first_step`` hands ``context`` to
        the first `decode_step` as the injection.
        """
        context = self.image_projection(self.normalize(features))
        batch = ops.shape(context)[0]
        if self.inject == "init_state":
            return self._split_states(context), context
        states = [ops.zeros((batch, self.units)) for _ in range(self.layers * self.rnn.states_per_layer)]
        if self.inject == "pre_inject":
            _, states = self.rnn.step(context, states)
        return list(states), context

    def decode_step(self, tokens, states, context, first: bool = False):
        """One step: ``tokens`` (N,) previous ids -> ``(logits (N, V), new flat states)``.

        ``first=True`` marks the ``<bos>`` step; only then does ``first_step`` pass the image injection.
        """
        words = self.embedding(ops.cast(tokens, "int32"))
        if self.inject == "par_inject":
            words = ops.concatenate([words, context], axis=-1)
        injection = context if (self.inject == "first_step" and first) else None
        outputs, states = self.rnn.step(words, list(states), injection=injection)
        if self.inject == "merge":
            outputs = ops.concatenate([outputs, context], axis=-1)
        return self.output_layer(outputs), list(states)

    def compute_output_shape(self, features_shape, tokens_shape):
        return (*tokens_shape, self.vocabulary_size)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "feature_dim": self.feature_dim,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "cell": self.cell,
            "layers": self.layers,
            "inject": self.inject,
            "dropout": self.dropout,
            "image_projection_dim": self.image_projection_dim,
            "feature_normalization": self.feature_normalization,
        }
