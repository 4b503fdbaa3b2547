"""The simple RNN cell written exactly as its formula, with the first-step injection made explicit."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="textmodels")
class FirstStepSimpleRNNCell(keras.layers.Layer):
    """``s_t = f(U·x_t + W·s_{t-1} + b)``, plus ``V·v`` at step 0 when an injected vector ``v`` is given.

    The cell reads the inputs built by `with_first_step_input`: each step is ``[x_t ; m_t]`` where the last
    ``injection_dim`` features are ``m_t`` (``v`` at step 0, zeros later), so ``V·m_t`` adds ``V·v`` to the first
    pre-activation only. This is the readable reference; `RecurrentBlock(cell="simple", injection_dim=...)`
    computes the same thing with Keras' `SimpleRNN` (its kernel is ``[U ; V]``).

    Args:
        units: size of the state ``s_t``.
        injection_dim: size of the injected vector ``v`` (0: no injection).
        activation: ``f``, tanh by default.

    Example:
        >>> import keras, numpy as np
        >>> from textmodels.layers import with_first_step_input
        >>> rnn = keras.layers.RNN(FirstStepSimpleRNNCell(4, injection_dim=2), return_sequences=True)
        >>> inputs = with_first_step_input(np.ones((1, 5, 3), "float32"), np.ones((1, 2), "float32"))
        >>> tuple(rnn(inputs).shape)
        (1, 5, 4)
    """

    def __init__(self, units: int, injection_dim: int = 0, activation="tanh", **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.injection_dim = injection_dim
        self.activation = keras.activations.get(activation)
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        input_dim = input_shape[-1] - self.injection_dim
        self.input_kernel = self.add_weight(shape=(input_dim, self.units), name="input_kernel")  # U
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), name="recurrent_kernel", initializer="orthogonal"
        )  # W
        self.bias = self.add_weight(shape=(self.units,), name="bias", initializer="zeros")  # b
        self.injection_kernel = (
            self.add_weight(shape=(self.injection_dim, self.units), name="injection_kernel")  # V
            if self.injection_dim
            else None
        )

    def call(self, inputs, states, training=False):
        previous_state = states[0] if isinstance(states, (list, tuple)) else states
        input_dim = ops.shape(self.input_kernel)[0]
        pre_activation = (
            ops.matmul(inputs[:, :input_dim], self.input_kernel)
            + ops.matmul(previous_state, self.recurrent_kernel)
            + self.bias
        )
        if self.injection_kernel is not None:
            pre_activation = pre_activation + ops.matmul(inputs[:, input_dim:], self.injection_kernel)
        state = self.activation(pre_activation)
        return state, [state]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "injection_dim": self.injection_dim,
            "activation": keras.activations.serialize(self.activation),
        }
