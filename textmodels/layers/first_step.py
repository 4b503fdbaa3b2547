"""The first-step input: how an extra vector reaches the pre-activation of step 0 only.

Every step's input is extended to ``[x_t ; m_t]`` with ``m_0 = v`` and ``m_t = 0`` for ``t > 0``. An RNN's input
kernel then has extra rows ``V`` and computes ``U·x_t + V·m_t``, which is ``U·x_0 + V·v`` at step 0 and plain
``U·x_t`` afterwards: exactly ``s_0 = f(U·x_0 + W·s_{-1} + V·v)``, with Keras' own (fused) recurrent layers.

Example:
    >>> import numpy as np
    >>> out = with_first_step_input(np.ones((1, 3, 2), "float32"), np.full((1, 1), 7.0, "float32"))
    >>> np.asarray(out)[0, :, 2].tolist()
    [7.0, 0.0, 0.0]
"""

from __future__ import annotations

import keras
from keras import ops


def with_first_step_input(inputs, vector):
    """Appends ``vector`` (batch, dim) to step 0 of ``inputs`` (batch, time, features) and zeros elsewhere."""
    steps = ops.shape(inputs)[1]
    is_first = ops.cast(ops.equal(ops.arange(steps), 0), inputs.dtype)
    extra = ops.expand_dims(ops.cast(vector, inputs.dtype), 1) * ops.reshape(is_first, (1, -1, 1))
    return ops.concatenate([inputs, extra], axis=-1)


def narrow_copy(layer, input_dim: int):
    """An untrained copy of recurrent ``layer`` (built on ``[x_t ; m_t]``) built on ``x_t`` alone.

    `run_with_first_step_input` runs it with every weight mapped to ``layer``'s, so its own weights are never
    used (nor saved: the caller keeps it out of Keras' tracking).
    """
    copy = layer.__class__.from_config(layer.get_config())
    copy.build((None, None, input_dim))
    return copy


def narrow_weights(copy, layer) -> keras.StatelessScope:
    """A scope in which ``copy`` (`narrow_copy`) computes with ``layer``'s weights: its input kernel is the first
    rows of ``layer``'s (``U`` of ``[U ; V]``), every other weight is ``layer``'s own."""
    # Same class and config, so the weights pair up in order; only the input kernel differs (fewer rows).
    return keras.StatelessScope(state_mapping=[
        (own, weight.value if own.shape == weight.shape else weight.value[: own.shape[0]])
        for own, weight in zip(copy.weights, layer.weights, strict=True)
    ])


def run_with_first_step_input(layer, copy, inputs, vector, mask=None, initial_state=None, training=None):
    """``layer(with_first_step_input(inputs, vector), ...)``, with ``V`` multiplied in at step 0 only.

    Steps after the first would multiply zeros by ``V``; they run through ``copy`` (`narrow_copy`) instead, with
    ``layer``'s weights (`narrow_weights`: a `keras.StatelessScope`, which also keeps the training gradients
    flowing to ``layer``'s own weights). Same numbers, and each of those steps costs what a
    plain recurrent layer's does. The states are the same; at padded positions after step 0 the outputs are
    zeros instead of a repeat of the last valid output (no prediction reads them).

    Example:
        >>> import keras, numpy as np
        >>> layer = keras.layers.GRU(3, return_sequences=True, return_state=True)
        >>> x, v = np.ones((2, 4, 2), "float32"), np.ones((2, 5), "float32")
        >>> wide, *_ = layer(with_first_step_input(x, v))
        >>> split, *_ = run_with_first_step_input(layer, narrow_copy(layer, 2), x, v)
        >>> bool(np.allclose(wide, split, atol=1e-6))
        True
    """
    steps = inputs.shape[1]
    first, *states = layer(with_first_step_input(inputs[:, :1], vector), mask=None if mask is None else mask[:, :1],
                           initial_state=initial_state, training=training)
    if steps == 1:
        return [first, *states]
    rest = inputs[:, 1:]
    rest_mask = None if mask is None else ops.cast(mask[:, 1:], "bool")
    if steps is None:
        # The length is only known at run time and may be 1; a recurrent layer needs at least one step, so one
        # masked zero step is appended (and its output dropped).
        if rest_mask is None:
            rest_mask = ops.ones_like(ops.cast(rest[:, :, 0], "bool"))
        rest = ops.concatenate([rest, ops.zeros_like(inputs[:, :1])], axis=1)
        rest_mask = ops.concatenate([rest_mask, ops.zeros_like(ops.cast(inputs[:, :1, 0], "bool"))], axis=1)
    with narrow_weights(copy, layer):
        outputs, *states = copy(rest, mask=rest_mask, initial_state=states, training=training)
    if steps is None:
        outputs = outputs[:, :-1]
    return [ops.concatenate([first, outputs], axis=1), *states]
