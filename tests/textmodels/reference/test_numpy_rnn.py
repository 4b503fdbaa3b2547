"""The NumPy reference RNN: BPTT against finite differences and Keras autodiff, clipping, training, and the
vanishing/exploding behaviour of gradients through Keras recurrent layers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from textmodels.reference import (
    KERAS_TOLERANCE,
    ReferenceInputError,
    RNNParams,
    backward,
    clip_by_global_norm,
    compare_with_keras,
    forward,
    gradient_flow_demo,
    gradient_norms_over_time,
    sample,
    train,
)
from textmodels.reference import __main__ as command

REPO_ROOT = Path(__file__).resolve().parents[3]


def _tiny_problem(seed: int = 3):
    rng = np.random.default_rng(seed)
    params = RNNParams.random(vocab_size=4, hidden_size=3, seed=seed, scale=0.7)
    params.b = rng.normal(0.0, 0.5, 3)
    params.c = rng.normal(0.0, 0.5, 4)
    inputs = rng.integers(0, 4, 6)
    targets = rng.integers(0, 4, 6)
    h0 = rng.normal(0.0, 0.5, 3)
    return params, inputs, targets, h0


def test_backward_matches_central_finite_differences_for_every_parameter_entry():
    params, inputs, targets, h0 = _tiny_problem()
    _, cache = forward(params, inputs, targets, h0)
    grads = backward(params, cache)
    eps = 1e-6
    for name, array in params.as_dict().items():
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            original = array[index]
            array[index] = original + eps
            loss_plus, _ = forward(params, inputs, targets, h0)
            array[index] = original - eps
            loss_minus, _ = forward(params, inputs, targets, h0)
            array[index] = original
            numeric[index] = (loss_plus - loss_minus) / (2 * eps)
        assert np.abs(grads[name]).max() > 1e-3, f"{name}: gradient too small to make the check meaningful"
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-8, err_msg=name)


def test_forward_carries_state_so_chunks_equal_one_long_sequence():
    params, inputs, targets, h0 = _tiny_problem()
    whole, whole_cache = forward(params, inputs, targets, h0)
    first, first_cache = forward(params, inputs[:2], targets[:2], h0)
    second, second_cache = forward(params, inputs[2:], targets[2:], first_cache.last_hidden)
    assert whole == pytest.approx(first + second, rel=1e-12)
    np.testing.assert_allclose(whole_cache.last_hidden, second_cache.last_hidden)


@pytest.mark.parametrize(
    ("inputs", "targets", "h0", "culprit"),
    [
        ([0, 9], [1, 2], None, "inputs[1] = 9"),
        ([0, 1], [1, -1], None, "targets[1] = -1"),
        ([0, 1, 2], [1, 2], None, "targets has 2"),
        ([0.5], [1], None, "integer"),
        ([0, 1], [1, 2], np.zeros(5), "h0 must have shape (3,)"),
    ],
)
def test_forward_rejects_bad_input_naming_the_culprit(inputs, targets, h0, culprit):
    params = RNNParams.random(vocab_size=4, hidden_size=3)
    with pytest.raises(ReferenceInputError) as error:
        forward(params, inputs, targets, h0)
    assert culprit in str(error.value)


def test_numpy_gradients_agree_with_keras_autodiff():
    diffs = compare_with_keras(seed=2, hidden=5, steps=7, vocab=6)
    assert set(diffs) == {"loss", "U", "W", "V", "b", "c"}
    assert max(diffs.values()) < KERAS_TOLERANCE, diffs


def test_check_cli_exits_zero_and_prints_a_row_per_parameter():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    completed = subprocess.run(
        [sys.executable, "-m", "textmodels.reference", "--check", "--seed", "1", "--hidden", "4", "--steps", "5",
         "--vocab", "5"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    rows = [line.split()[0] for line in completed.stdout.splitlines()[1:] if line.strip()]
    assert rows == ["loss", "U", "W", "V", "b", "c"]


def test_check_returns_nonzero_when_a_gradient_disagrees(monkeypatch, capsys):
    monkeypatch.setattr(command, "compare_with_keras", lambda **_: {"loss": 0.0, "W": 1e-3})
    assert command.main(["--check"]) == 1
    assert "NO" in capsys.readouterr().out


def test_clipping_scales_a_large_gradient_to_exactly_c_keeping_its_direction():
    rng = np.random.default_rng(0)
    grads = {"U": rng.normal(size=(3, 4)) * 10, "b": rng.normal(size=3) * 10}
    clipped, norm = clip_by_global_norm(grads, 2.0)
    expected_norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    assert norm == pytest.approx(expected_norm)
    clipped_norm = np.sqrt(sum(np.sum(g**2) for g in clipped.values()))
    assert clipped_norm == pytest.approx(2.0, rel=1e-12)
    for name in grads:
        np.testing.assert_allclose(clipped[name], grads[name] * 2.0 / expected_norm)


def test_clipping_leaves_a_small_gradient_unchanged():
    grads = {"W": np.array([[0.1, -0.2]]), "c": np.array([0.05])}
    clipped, norm = clip_by_global_norm(grads, 5.0)
    assert norm < 5.0
    for name in grads:
        np.testing.assert_array_equal(clipped[name], grads[name])


def test_clipping_zero_gradients_is_safe():
    clipped, norm = clip_by_global_norm({"W": np.zeros((2, 2)), "b": np.zeros(2)}, 1.0)
    assert norm == 0.0
    assert all(np.all(g == 0.0) and np.all(np.isfinite(g)) for g in clipped.values())


def test_clipping_rejects_a_non_positive_threshold():
    with pytest.raises(ReferenceInputError, match="must be positive"):
        clip_by_global_norm({"W": np.ones(2)}, 0.0)


def test_training_on_a_repetitive_string_lowers_the_loss_and_learns_the_pattern():
    result = train("abcd" * 30, hidden_size=16, seq_length=8, learning_rate=0.3, steps=200, seed=0)
    assert result.chars == ["a", "b", "c", "d"]
    start, end = np.mean(result.losses[:10]), np.mean(result.losses[-10:])
    assert end < 0.3 * start, (start, end)
    generated = "".join(result.chars[i] for i in sample(result.params, first_id=0, length=40, seed=1))
    successor = {"a": "b", "b": "c", "c": "d", "d": "a"}
    correct = sum(successor[prev] == nxt for prev, nxt in zip("a" + generated, generated))
    assert correct >= 36, generated


def test_training_rejects_a_text_too_short_to_predict_from():
    with pytest.raises(ReferenceInputError, match="at least 2 characters"):
        train("x")


def test_simple_rnn_gradients_vanish_far_faster_than_lstm_and_explode_with_large_recurrent_weights():
    norms = gradient_flow_demo(steps=50, units=16, features=8, seed=0)
    ratios = {name: values[0] / values[-1] for name, values in norms.items()}
    assert ratios["simple_rnn_small"] < 1e-8, ratios
    assert ratios["simple_rnn_small"] < 1e-4 * ratios["lstm"], ratios
    assert ratios["simple_rnn_large"] > 10.0, ratios
    # Vanishing is a steady geometric decay going back in time, not a single drop.
    small = norms["simple_rnn_small"]
    assert np.all(np.diff(small) > 0), small


def test_gradient_norms_match_an_explicit_loss_on_the_fused_layer_output():
    inputs = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    layer = keras.layers.GRU(4)
    norms = gradient_norms_over_time(layer, inputs, loss_fn=lambda h: keras.ops.sum(h**2))
    final_state = np.asarray(layer(inputs))
    # d(sum h^2)/dh = 2h, so the last norm must equal ||2 h_T|| from the layer's own (fused) forward pass.
    assert norms[-1] == pytest.approx(np.linalg.norm(2 * final_state), rel=1e-5)
    assert norms.shape == (5,) and np.all(norms > 0)


def test_gradient_norms_accept_a_generic_rnn_wrapper_and_clip_by_global_norm():
    inputs = np.random.default_rng(1).normal(size=(1, 12, 3)).astype("float32")
    layer = keras.layers.RNN(
        keras.layers.SimpleRNNCell(6, recurrent_initializer=keras.initializers.Orthogonal(gain=2.0, seed=0))
    )
    raw = gradient_norms_over_time(layer, inputs)
    clipped = gradient_norms_over_time(layer, inputs, clip_norm=0.5)
    assert np.linalg.norm(raw) > 0.5
    assert np.linalg.norm(clipped) == pytest.approx(0.5, rel=1e-6)
    np.testing.assert_allclose(clipped / clipped[-1], raw / raw[-1], rtol=1e-6)


def test_gradient_norms_reject_a_layer_without_a_cell():
    with pytest.raises(ReferenceInputError, match="Dense"):
        gradient_norms_over_time(keras.layers.Dense(3), np.zeros((1, 4, 2)))


def test_gradient_norms_reject_inputs_with_the_wrong_feature_count():
    layer = keras.layers.LSTM(3, name="built_for_two")
    layer(np.zeros((1, 4, 2), dtype="float32"))
    with pytest.raises(ReferenceInputError, match="built_for_two was built for 2"):
        gradient_norms_over_time(layer, np.zeros((1, 4, 5)))
