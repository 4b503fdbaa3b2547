"""LSTM with peephole connections (Gers & Schmidhuber 2000)."""

from __future__ import annotations

import keras
from keras import ops

from textmodels.layers.lstm_gates import gate_preactivations


@keras.saving.register_keras_serializable(package="textmodels")
class PeepholeLSTMCell(keras.layers.LSTMCell):
    """An `LSTMCell` whose gates also read the cell state.

    ``i = σ(W_i·x + U_i·h + p_i⊙c_{t-1} + b_i)``, ``f = σ(W_f·x + U_f·h + p_f⊙c_{t-1} + b_f)``,
    ``c_t = f⊙c_{t-1} + i⊙tanh(W_c·x + U_c·h + b_c)``, ``o = σ(W_o·x + U_o·h + p_o⊙c_t + b_o)``;
    the peephole weights ``p`` are diagonal (one per unit and gate). A custom cell: no fused kernel.

    Example:
        >>> import keras, numpy as np
        >>> tuple(keras.layers.RNN(PeepholeLSTMCell(3))(np.zeros((2, 4, 5), "float32")).shape)
        (2, 3)
    """

    def build(self, input_shape):
        super().build(input_shape)
        self.peephole_weights = self.add_weight(shape=(3, self.units), name="peephole_weights")

    def call(self, inputs, states, training=False):
        c_previous = states[1]
        z = gate_preactivations(self, inputs, states[0], training)
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=1)
        p_i, p_f, p_o = self.peephole_weights[0], self.peephole_weights[1], self.peephole_weights[2]
        i = self.recurrent_activation(z_i + p_i * c_previous)
        f = self.recurrent_activation(z_f + p_f * c_previous)
        c = f * c_previous + i * self.activation(z_c)
        o = self.recurrent_activation(z_o + p_o * c)
        h = o * self.activation(c)
        return h, [h, c]
