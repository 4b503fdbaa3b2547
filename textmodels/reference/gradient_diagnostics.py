"""Gradient diagnostics with Keras: the NumPy reference RNN's loss and gradients checked against Keras autodiff
(`compare_with_keras`), and how gradients flow back through any Keras recurrent layer
(`gradient_norms_over_time`, `gradient_flow_demo`), the classic illustration of vanishing and exploding
gradients.

Example:
    >>> diffs = compare_with_keras(seed=0, hidden=3, steps=4, vocab=5)
    >>> sorted(diffs) == ["U", "V", "W", "b", "c", "loss"] and max(diffs.values()) < KERAS_TOLERANCE
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from textmodels.reference.numpy_rnn import (
    PARAM_NAMES,
    ReferenceInputError,
    RNNParams,
    backward,
    check_token_ids,
    clip_by_global_norm,
    forward,
)

KERAS_TOLERANCE = 1e-6


def _require_tensorflow_backend():
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ReferenceInputError(
            f"the Keras comparison uses tf.GradientTape and needs KERAS_BACKEND=tensorflow, "
            f"got {keras.backend.backend()!r}"
        )
    import tensorflow as tf

    return keras, tf


def keras_loss_and_gradients(
    params: RNNParams, inputs: Sequence[int], targets: Sequence[int], h0: np.ndarray | None = None
) -> tuple[float, dict[str, np.ndarray]]:
    """The same loss and gradients computed by Keras (SimpleRNN + Dense softmax, float64) and TensorFlow autodiff.

    Example:
        >>> params = RNNParams.random(vocab_size=4, hidden_size=3)
        >>> loss, grads = keras_loss_and_gradients(params, [0, 1], [1, 2])
        >>> bool(abs(loss - forward(params, [0, 1], [1, 2])[0]) < 1e-12)
        True
    """
    keras, tf = _require_tensorflow_backend()
    inputs = check_token_ids(inputs, "inputs", params.vocab_size)
    targets = check_token_ids(targets, "targets", params.vocab_size)
    h0 = np.zeros(params.hidden_size) if h0 is None else np.asarray(h0, dtype=np.float64)

    rnn = keras.layers.SimpleRNN(params.hidden_size, return_sequences=True, dtype="float64")
    readout = keras.layers.Dense(params.vocab_size, activation="softmax", dtype="float64")
    one_hot = np.eye(params.vocab_size)[inputs][None]  # (batch=1, time, vocab)
    initial_state = tf.constant(h0[None])
    states = rnn(one_hot, initial_state=initial_state)  # builds the layer so the weights can be replaced
    readout(states)
    # Keras multiplies row vectors from the left (x @ kernel), so its kernels are our matrices transposed.
    rnn.set_weights([params.U.T, params.W.T, params.b])
    readout.set_weights([params.V.T, params.c])

    variables = [rnn.cell.kernel, rnn.cell.recurrent_kernel, rnn.cell.bias, readout.kernel, readout.bias]
    with tf.GradientTape() as tape:
        probabilities = readout(rnn(one_hot, initial_state=initial_state))[0]
        picked = tf.gather(probabilities, targets[:, None], batch_dims=1)
        loss = -tf.reduce_sum(tf.math.log(picked))
    dU_T, dW_T, db, dV_T, dc = (np.asarray(g) for g in tape.gradient(loss, variables))
    return float(loss), {"U": dU_T.T, "W": dW_T.T, "V": dV_T.T, "b": db, "c": dc}


def compare_with_keras(seed: int = 0, hidden: int = 8, steps: int = 10, vocab: int = 6) -> dict[str, float]:
    """Largest absolute difference between NumPy and Keras for the loss and each gradient, on random data.

    Example:
        >>> diffs = compare_with_keras(seed=1, hidden=3, steps=4, vocab=5)
        >>> list(diffs), max(diffs.values()) < 1e-6
        (['loss', 'U', 'W', 'V', 'b', 'c'], True)
    """
    rng = np.random.default_rng(seed)
    # Larger-than-default weights and nonzero biases so that no gradient is trivially tiny or zero.
    params = RNNParams.random(vocab, hidden, seed=seed, scale=0.5)
    params.b = rng.normal(0.0, 0.5, hidden)
    params.c = rng.normal(0.0, 0.5, vocab)
    inputs = rng.integers(0, vocab, steps)
    targets = rng.integers(0, vocab, steps)
    h0 = rng.normal(0.0, 0.5, hidden)

    loss, cache = forward(params, inputs, targets, h0)
    grads = backward(params, cache)
    keras_loss, keras_grads = keras_loss_and_gradients(params, inputs, targets, h0)
    diffs = {"loss": abs(loss - keras_loss)}
    diffs.update({name: float(np.max(np.abs(grads[name] - keras_grads[name]))) for name in PARAM_NAMES})
    return diffs


def gradient_norms_over_time(
    rnn_layer,
    inputs,
    loss_fn: Callable | None = None,
    clip_norm: float | None = None,
    seed: int = 0,
) -> np.ndarray:
    """||dL/dh_t|| for every step t of a Keras recurrent layer, where L depends only on the last step's output.

    The layer's cell is stepped by hand under a GradientTape so that each h_t (the cell's output, which for
    SimpleRNN, GRU and LSTM is the hidden state) can be watched. Element t of the result belongs to the
    state after reading ``inputs[:, t]``; element -1 is dL/dh_T. ``loss_fn(h_T)`` maps the last output
    to a scalar; by default it is a fixed random linear readout (seeded by ``seed``), so ||dL/dh_T|| is
    about 1. With ``clip_norm`` the per-step gradients are first clipped together by their global norm.

    Example:
        >>> import keras
        >>> layer = keras.layers.SimpleRNN(4)
        >>> norms = gradient_norms_over_time(layer, np.ones((1, 6, 3), dtype="float32"))
        >>> norms.shape, bool(norms[-1] > 0)
        ((6,), True)
    """
    _, tf = _require_tensorflow_backend()
    cell = getattr(rnn_layer, "cell", None)
    if cell is None:
        raise ReferenceInputError(
            f"rnn_layer must be a Keras recurrent layer with a .cell (SimpleRNN, GRU, LSTM, RNN), "
            f"got {type(rnn_layer).__name__}"
        )
    inputs = np.asarray(inputs)
    if inputs.ndim != 3 or inputs.shape[1] < 1:
        raise ReferenceInputError(f"inputs must have shape (batch, time, features) with time >= 1, got {inputs.shape}")
    if not rnn_layer.built:
        rnn_layer(inputs)
    kernel = getattr(cell, "kernel", None)
    if kernel is not None and kernel.shape[0] != inputs.shape[-1]:
        raise ReferenceInputError(
            f"inputs have {inputs.shape[-1]} features but {rnn_layer.name} was built for {kernel.shape[0]}"
        )
    sequence = tf.constant(inputs, dtype=cell.compute_dtype)
    states = cell.get_initial_state(batch_size=inputs.shape[0])
    outputs = []
    with tf.GradientTape() as tape:
        for t in range(inputs.shape[1]):
            output, states = cell(sequence[:, t], states, training=False)
            tape.watch(output)
            outputs.append(output)
        if loss_fn is None:
            units = outputs[-1].shape[-1]
            weights = np.random.default_rng(seed).normal(0.0, 1.0 / np.sqrt(units), units)
            loss = tf.reduce_sum(outputs[-1] * tf.constant(weights, dtype=outputs[-1].dtype))
        else:
            loss = loss_fn(outputs[-1])
    step_grads = tape.gradient(loss, outputs, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    grads = {t: np.asarray(g, dtype=np.float64) for t, g in enumerate(step_grads)}
    if clip_norm is not None:
        grads, _ = clip_by_global_norm(grads, clip_norm)
    return np.array([np.linalg.norm(grads[t]) for t in range(len(grads))])


def gradient_flow_demo(steps: int = 50, units: int = 16, features: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """Gradient norms over ``steps`` for three layers: a SimpleRNN with small weights (vanishing), an LSTM with
    forget-gate bias 1 (far less decay) and a SimpleRNN with scaled-up recurrent weights (exploding).

    Example:
        >>> norms = gradient_flow_demo(steps=10, units=4, features=3)
        >>> sorted(norms), norms["lstm"].shape
        (['lstm', 'simple_rnn_large', 'simple_rnn_small'], (10,))
    """
    import keras

    rng = np.random.default_rng(seed)
    inputs = rng.normal(0.0, 1.0, (1, steps, features)).astype("float32")
    layers = {
        "simple_rnn_small": keras.layers.SimpleRNN(
            units,
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.1, seed=seed),
            recurrent_initializer=keras.initializers.Orthogonal(gain=0.5, seed=seed),
        ),
        "lstm": keras.layers.LSTM(
            units,
            unit_forget_bias=True,
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.1, seed=seed),
            recurrent_initializer=keras.initializers.Orthogonal(gain=0.5, seed=seed),
        ),
        "simple_rnn_large": keras.layers.SimpleRNN(
            units,
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.1, seed=seed),
            recurrent_initializer=keras.initializers.Orthogonal(gain=2.0, seed=seed),
        ),
    }
    return {name: gradient_norms_over_time(layer, inputs, seed=seed) for name, layer in layers.items()}
