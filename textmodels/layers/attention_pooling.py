"""Additive (Bahdanau-style) attention pooling that also returns its weights."""

from __future__ import annotations

import keras
from keras import ops

from textmodels.errors import check_positive_int


@keras.saving.register_keras_serializable(package="textmodels")
class AttentionPooling(keras.layers.Layer):
    """``score_t = vᵀ tanh(W·h_t + b)``, ``α = softmax(score)`` over valid steps, output ``Σ α_t h_t``.

    Returns ``(pooled, weights)``: (batch, features) and (batch, time); padded steps get weight 0 and a fully
    padded row gets all-zero weights and a zero output.

    Example:
        >>> import keras, numpy as np
        >>> mask = np.array([[1, 1, 0, 0]] * 2, bool)
        >>> pooled, weights = AttentionPooling(8)(np.ones((2, 4, 3), "float32"), mask=mask)
        >>> tuple(pooled.shape), keras.ops.convert_to_numpy(weights).round(2).tolist()[0]
        ((2, 3), [0.5, 0.5, 0.0, 0.0])
    """

    def __init__(self, units: int = 64, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("units", units)
        self.units = units
        self.supports_masking = True

    def build(self, input_shape):
        self.projection = self.add_weight(shape=(input_shape[-1], self.units), name="projection")
        self.projection_bias = self.add_weight(shape=(self.units,), name="projection_bias", initializer="zeros")
        self.context = self.add_weight(shape=(self.units,), name="context")

    def call(self, inputs, mask=None):
        scores = ops.matmul(ops.tanh(ops.matmul(inputs, self.projection) + self.projection_bias), self.context)
        valid = ops.ones_like(scores, dtype="bool") if mask is None else ops.cast(mask, "bool")
        scores = ops.where(valid, scores, ops.convert_to_tensor(-1e9, scores.dtype))
        weights = ops.softmax(scores, axis=-1) * ops.cast(valid, scores.dtype)
        # Renormalise after zeroing so a fully padded row yields zeros instead of a uniform spread.
        weights = weights / ops.maximum(ops.sum(weights, axis=-1, keepdims=True), 1e-9)
        pooled = ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)
        return pooled, weights

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1]), (input_shape[0], input_shape[1])

    def get_config(self):
        return {**super().get_config(), "units": self.units}
