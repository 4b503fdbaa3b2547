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

from keras import ops


def with_first_step_input(inputs, vector):
    """Appends ``vector`` (batch, dim) to step 0 of ``inputs`` (batch, time, features) and zeros elsewhere."""
    steps = ops.shape(inputs)[1]
    is_first = ops.cast(ops.equal(ops.arange(steps), 0), inputs.dtype)
    extra = ops.expand_dims(ops.cast(vector, inputs.dtype), 1) * ops.reshape(is_first, (1, -1, 1))
    return ops.concatenate([inputs, extra], axis=-1)
