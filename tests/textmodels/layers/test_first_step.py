"""The first-step injection computes exactly s_0 = f(U·x_0 + W·s_{-1} + V·v) and leaves later steps plain."""

import keras
import numpy as np
import pytest
from keras.ops import convert_to_numpy as to_numpy

from textmodels.layers import FirstStepSimpleRNNCell, RecurrentBlock, with_first_step_input

pytestmark = pytest.mark.all_backends


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    return rng.normal(size=(2, 5, 3)).astype("float32"), rng.normal(size=(2, 4)).astype("float32")


def test_explicit_cell_matches_the_formula_by_hand(data):
    x, image = data
    rnn = keras.layers.RNN(FirstStepSimpleRNNCell(6, injection_dim=4), return_sequences=True)
    outputs = to_numpy(rnn(with_first_step_input(x, image)))
    cell = rnn.cell
    U, W, V, b = (to_numpy(w) for w in (cell.input_kernel, cell.recurrent_kernel, cell.injection_kernel, cell.bias))
    state = np.zeros((2, 6))
    for t in range(5):
        injected = image @ V if t == 0 else 0.0
        state = np.tanh(x[:, t] @ U + state @ W + injected + b)
        np.testing.assert_allclose(outputs[:, t], state, atol=1e-5)


def test_fused_simple_block_equals_the_explicit_cell(data):
    x, image = data
    explicit = keras.layers.RNN(FirstStepSimpleRNNCell(6, injection_dim=4), return_sequences=True)
    expected = to_numpy(explicit(with_first_step_input(x, image)))
    block = RecurrentBlock(6, cell="simple", injection_dim=4)
    block(x, injection=image)
    cell = explicit.cell
    kernel = np.concatenate([to_numpy(cell.input_kernel), to_numpy(cell.injection_kernel)])  # [U ; V]
    block.recurrent_layers[0].set_weights([kernel, to_numpy(cell.recurrent_kernel), to_numpy(cell.bias)])
    np.testing.assert_allclose(to_numpy(block(x, injection=image)), expected, atol=1e-6)


def test_lstm_injection_enters_the_gates_of_step_zero_only(data):
    x, image = data
    block = RecurrentBlock(5, cell="lstm", injection_dim=4)
    outputs = to_numpy(block(x, injection=image))
    kernel, recurrent, bias = (to_numpy(w) for w in block.recurrent_layers[0].get_weights())
    U, V = kernel[:3], kernel[3:]
    h = c = np.zeros((2, 5))
    for t in range(5):
        z = x[:, t] @ U + h @ recurrent + bias + (image @ V if t == 0 else 0.0)
        i, f, g, o = np.split(z, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        np.testing.assert_allclose(outputs[:, t], h, atol=1e-5)


def test_gru_injection_enters_the_gates_of_step_zero_only(data):
    x, image = data
    block = RecurrentBlock(5, cell="gru", injection_dim=4)
    outputs = to_numpy(block(x, injection=image))
    kernel, recurrent, bias = (to_numpy(w) for w in block.recurrent_layers[0].get_weights())
    U, V = kernel[:3], kernel[3:]
    input_bias, recurrent_bias = bias  # Keras' default reset_after=True keeps two biases
    h = np.zeros((2, 5))
    for t in range(5):
        from_input = x[:, t] @ U + input_bias + (image @ V if t == 0 else 0.0)
        from_state = h @ recurrent + recurrent_bias
        x_z, x_r, x_h = np.split(from_input, 3, axis=1)
        h_z, h_r, h_h = np.split(from_state, 3, axis=1)
        z, r = sigmoid(x_z + h_z), sigmoid(x_r + h_r)
        h = z * h + (1 - z) * np.tanh(x_h + r * h_h)
        np.testing.assert_allclose(outputs[:, t], h, atol=1e-5)


def test_injection_errors():
    with pytest.raises(ValueError, match="injection_dim=0"):
        RecurrentBlock(3)(np.zeros((1, 2, 2), "float32"), injection=np.zeros((1, 2), "float32"))

