"""Masked pooling over time: padding never changes the result, and fully padded rows give zeros, not NaN."""

from __future__ import annotations

import keras
from keras import ops

from textmodels.errors import ConfigurationError, check_choice

POOLING_MODES = ("last", "mean", "max", "topk")


def _float_mask(inputs, mask):
    if mask is None:
        return ops.ones(ops.shape(inputs)[:2], dtype=inputs.dtype)
    return ops.cast(mask, inputs.dtype)


def last_valid_step(inputs, mask):
    """The output at each row's last valid step (zeros for a fully padded row); assumes post-padding."""
    weights = _float_mask(inputs, mask)
    count = ops.cast(ops.sum(weights, axis=1), "int32")
    index = ops.maximum(count - 1, 0)
    picked = ops.take_along_axis(inputs, ops.reshape(index, (-1, 1, 1)), axis=1)[:, 0]
    return picked * ops.expand_dims(ops.cast(count > 0, inputs.dtype), -1)


@keras.saving.register_keras_serializable(package="textmodels")
class SequencePooling(keras.layers.Layer):
    """Pools (batch, time, features) to (batch, features) (``topk``: (batch, k * features)) honouring the mask.

    Args:
        mode: ``last`` (last valid step), ``mean``, ``max``, or ``topk`` (the ``k`` largest values of every
            feature, kept in time order, as in k-max pooling).
        k: for ``topk``.
        directions: 2 when the features are ``[forward ; backward]`` halves of a bidirectional layer: then
            ``last`` takes the forward half at the last valid step and the backward half at step 0 (where the
            backward direction ends).

    Example:
        >>> import keras, numpy as np
        >>> x = np.array([[[1.0], [5.0], [3.0], [9.0]]], "float32")
        >>> mask = np.array([[True, True, True, False]])
        >>> [float(SequencePooling(m)(x, mask=mask)[0, 0]) for m in ("last", "mean", "max")]
        [3.0, 3.0, 5.0]
        >>> keras.ops.convert_to_numpy(SequencePooling("topk", k=2)(x, mask=mask)).tolist()
        [[5.0, 3.0]]
    """

    def __init__(self, mode: str = "max", k: int = 2, directions: int = 1, **kwargs):
        super().__init__(**kwargs)
        check_choice("pooling mode", mode, POOLING_MODES, kinds="modes")
        if mode == "topk" and (not isinstance(k, int) or k < 1):
            raise ConfigurationError(f"topk pooling needs an integer k >= 1, got {k!r}.")
        if directions not in (1, 2):
            raise ConfigurationError(f"directions must be 1 or 2, got {directions!r}.")
        self.mode = mode
        self.k = k
        self.directions = directions
        self.supports_masking = True

    def call(self, inputs, mask=None):
        weights = ops.expand_dims(_float_mask(inputs, mask), -1)
        if self.mode == "last":
            if self.directions == 1:
                return last_valid_step(inputs, mask)
            forward, backward = ops.split(inputs, 2, axis=-1)
            return ops.concatenate([last_valid_step(forward, mask), backward[:, 0] * weights[:, 0]], axis=-1)
        if self.mode == "mean":
            return ops.sum(inputs * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
        lowest = ops.convert_to_tensor(-1e9, inputs.dtype)
        masked = ops.where(weights > 0, inputs, lowest)
        if self.mode == "max":
            return ops.where(ops.any(weights > 0, axis=1), ops.max(masked, axis=1), 0.0)
        return self._top_k(masked, weights, lowest)

    def _top_k(self, masked, weights, lowest):
        # Rows shorter than k are padded so top_k always has k candidates; padding comes out as zeros.
        filler = ops.full_like(masked[:, :1], lowest)
        candidates = ops.concatenate([masked] + [filler] * self.k, axis=1)
        by_feature = ops.transpose(candidates, (0, 2, 1))  # (batch, features, time)
        values, positions = ops.top_k(by_feature, self.k, sorted=True)
        order = ops.argsort(positions, axis=-1)
        values = ops.take_along_axis(values, order, axis=-1)
        values = ops.where(values <= lowest, 0.0, values)
        return ops.reshape(values, (ops.shape(values)[0], -1))

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        features = input_shape[-1]
        return (input_shape[0], features * self.k if self.mode == "topk" else features)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "k": self.k, "directions": self.directions}
