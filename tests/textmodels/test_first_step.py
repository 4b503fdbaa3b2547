"""The first-step injection computes exactly s_0 = f(U·x_0 + W·s_{-1} + V·v) and leaves later steps plain."""

import keras
import numpy as np
import pytest

from textmodels.layers import FirstStepSimpleRNNCell, RecurrentBlock, with_first_step_input


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    return rng.normal(size=(2, 5, 3)).astype("float32"), rng.normal(size=(2, 4)).astype("float32")


def test_explicit_cell_matches_the_formula_by_hand(data):
    x, image = data
    rnn = keras.layers.RNN(FirstStepSimpleRNNCell(6, injection_dim=4), return_sequences=True)
    outputs = np.asarray(rnn(with_first_step_input(x, image)))
    cell = rnn.cell
    U, W, V, b = (np.asarray(w) for w in (cell.input_kernel, cell.recurrent_kernel, cell.injection_kernel, cell.bias))
    state = np.zeros((2, 6))
    for t in range(5):
        injected = image @ V if t == 0 else 0.0
        state = np.tanh(x[:, t] @ U + state @ W + injected + b)
        np.testing.assert_allclose(outputs[:, t], state, atol=1e-5)


def test_fused_simple_block_equals_the_explicit_cell(data):
    x, image = data
    explicit = keras.layers.RNN(FirstStepSimpleRNNCell(6, injection_dim=4), return_sequences=True)
    expected = np.asarray(explicit(with_first_step_input(x, image)))
    block = RecurrentBlock(6, cell="simple", injection_dim=4)
    block(x, injection=image)
    cell = explicit.cell
    kernel = np.concatenate([np.asarray(cell.input_kernel), np.asarray(cell.injection_kernel)])  # [U ; V]
    block.recurrent_layers[0].set_weights([kernel, np.asarray(cell.recurrent_kernel), np.asarray(cell.bias)])
    np.testing.assert_allclose(np.asarray(block(x, injection=image)), expected, atol=1e-6)


def test_lstm_injection_enters_the_gates_of_step_zero_only(data):
    x, image = data
    block = RecurrentBlock(5, cell="lstm", injection_dim=4)
    outputs = np.asarray(block(x, injection=image))
    kernel, recurrent, bias = (np.asarray(w) for w in block.recurrent_layers[0].get_weights())
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
    outputs = np.asarray(block(x, injection=image))
    kernel, recurrent, bias = (np.asarray(w) for w in block.recurrent_layers[0].get_weights())
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


def _wide_twin(block, steps, features, injection_dim):
    """The same first layer fed the zero-padded input at every step (what the block computed before the split)."""
    x_in, v_in = keras.Input((steps, features)), keras.Input((injection_dim,))
    layer = keras.layers.LSTM(block.units, return_sequences=True)
    model = keras.Model([x_in, v_in], layer(with_first_step_input(x_in, v_in)))
    layer.set_weights(block.recurrent_layers[0].get_weights())
    return model


@pytest.mark.parametrize("steps", [1, 5])
def test_split_first_step_trains_exactly_like_the_wide_input(data, steps):
    """Steps after the first run a narrow copy of the layer; values and gradients are the wide layer's own."""
    x, image = data
    x = x[:, :steps]
    x_in, v_in = keras.Input((steps, 3)), keras.Input((4,))
    block = RecurrentBlock(5, cell="lstm", injection_dim=4)
    split = keras.Model([x_in, v_in], block(x_in, injection=v_in))
    wide = _wide_twin(block, steps, 3, 4)
    targets = np.random.default_rng(0).normal(size=(2, steps, 5)).astype("float32")
    for model in (split, wide):
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
        model.train_on_batch([x, image], targets)
    for after, expected in zip(block.recurrent_layers[0].get_weights(), wide.layers[-1].get_weights(), strict=True):
        np.testing.assert_allclose(after, expected, atol=1e-6)
    # The copy is neither trained nor saved: the block's weights are the wide layer's alone.
    assert len(block.weights) == 3 and block.recurrent_layers[0].get_weights()[0].shape == (7, 20)


def test_split_first_step_with_run_time_lengths(data):
    """In a graph whose time axis is only known at run time, a 1-step batch and a longer one both work."""
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("run-time lengths inside one traced graph are the TensorFlow backend's (tf.function)")
    x, image = data
    block = RecurrentBlock(5, cell="gru", injection_dim=4)
    step = tf.function(lambda x, v: block(x, injection=v),
                       input_signature=[tf.TensorSpec((None, None, 3)), tf.TensorSpec((None, 4))])
    for steps in (1, 5):
        np.testing.assert_allclose(step(x[:, :steps], image).numpy(), np.asarray(block(x[:, :steps], injection=image)),
                                   atol=1e-6)
