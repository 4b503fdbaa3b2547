"""The custom LSTM cells compute their published formulas (one step, against NumPy)."""

import numpy as np
import pytest
from keras import ops

from textmodels.layers import CoupledLSTMCell, PeepholeLSTMCell

pytestmark = pytest.mark.all_backends


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def one_step(cell, x, h, c):
    cell.build(x.shape)
    rng = np.random.default_rng(7)
    cell.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in cell.get_weights()])
    output, (new_h, new_c) = cell(x, [h, c])
    return [ops.convert_to_numpy(t) for t in (output, new_h, new_c)], cell.get_weights()


def test_peephole_gates_read_the_cell_state():
    rng = np.random.default_rng(0)
    x, h, c = (rng.normal(size=s).astype("float32") for s in ((2, 3), (2, 4), (2, 4)))
    (output, new_h, new_c), (kernel, recurrent, bias, peephole) = one_step(PeepholeLSTMCell(4), x, h, c)
    z_i, z_f, z_c, z_o = np.split(x @ kernel + h @ recurrent + bias, 4, axis=1)
    i, f = sigmoid(z_i + peephole[0] * c), sigmoid(z_f + peephole[1] * c)
    expected_c = f * c + i * np.tanh(z_c)
    expected_h = sigmoid(z_o + peephole[2] * expected_c) * np.tanh(expected_c)
    np.testing.assert_allclose(new_c, expected_c, atol=1e-5)
    np.testing.assert_allclose(new_h, expected_h, atol=1e-5)
    np.testing.assert_array_equal(output, new_h)


def test_coupled_input_gate_is_one_minus_forget_gate():
    rng = np.random.default_rng(1)
    x, h, c = (rng.normal(size=s).astype("float32") for s in ((2, 3), (2, 4), (2, 4)))
    (output, new_h, new_c), (kernel, recurrent, bias) = one_step(CoupledLSTMCell(4), x, h, c)
    assert kernel.shape == (3, 12)  # three gate blocks, not four
    z_f, z_c, z_o = np.split(x @ kernel + h @ recurrent + bias, 3, axis=1)
    f = sigmoid(z_f)
    expected_c = f * c + (1 - f) * np.tanh(z_c)
    np.testing.assert_allclose(new_c, expected_c, atol=1e-5)
    np.testing.assert_allclose(new_h, sigmoid(z_o) * np.tanh(expected_c), atol=1e-5)


def test_coupled_forget_bias_starts_at_one():
    cell = CoupledLSTMCell(4)
    cell.build((None, 3))
    assert ops.convert_to_numpy(cell.bias)[:4].tolist() == [1.0] * 4
    assert not ops.convert_to_numpy(cell.bias)[4:].any()
