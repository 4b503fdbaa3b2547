"""The part every LSTM variant shares: dropout masks and the stacked gate pre-activations of one step."""

from __future__ import annotations

from keras import ops


def gate_preactivations(cell, inputs, h_previous, training):
    """``W·x_t + U·h_{t-1} + b`` for all gate blocks at once, with the cell's (recurrent) dropout applied.

    ``cell`` is a `keras.layers.LSTMCell` subclass: its dropout-mask helpers cache one mask per sequence, so
    the same units are dropped at every step.
    """
    if training and 0.0 < cell.dropout < 1.0:
        inputs = inputs * cell.get_dropout_mask(inputs)
    if training and 0.0 < cell.recurrent_dropout < 1.0:
        h_previous = h_previous * cell.get_recurrent_dropout_mask(h_previous)
    z = ops.matmul(inputs, cell.kernel) + ops.matmul(h_previous, cell.recurrent_kernel)
    return z + cell.bias if cell.use_bias else z
