"""The caption decoder: the layer contract of every shared layer (`tests/layer_testing.check_layer`) in every
inject mode, the first-step formula, and step-wise decoding."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops
from layer_testing import check_layer

from captioner.decoder import INJECT_MODES, CaptionDecoder

pytestmark = pytest.mark.all_backends

TOKENS = np.array([[2, 5, 7, 9, 3], [2, 4, 6, 0, 0], [2, 8, 0, 0, 0]])


def _features(rows=3, dim=6, seed=0):
    return np.random.default_rng(seed).normal(size=(rows, dim)).astype("float32")


@pytest.mark.parametrize("inject", INJECT_MODES)
def test_the_decoder_keeps_the_shared_layer_contract(inject, tmp_path):
    """Trains a step, round-trips its config and a .keras file, and gives the same logits however far the
    captions are padded, in every inject mode."""
    check_layer(lambda: CaptionDecoder(20, feature_dim=6, embedding_dim=4, units=5, cell="gru", inject=inject),
                kind="ids", vocabulary=20, tmp_path=tmp_path, context_dim=6)


def test_first_step_is_exactly_the_formula_and_later_steps_are_plain():
    decoder = CaptionDecoder(12, feature_dim=6, embedding_dim=4, units=5, cell="simple", inject="first_step")
    training_features = 2.0 + 3.0 * _features(rows=50, seed=1)
    decoder.adapt_features(training_features)
    features = _features()
    logits = ops.convert_to_numpy(decoder(features, TOKENS))
    img = (features - training_features.mean(0)) / training_features.std(0)  # standardised with training stats

    cell = decoder.rnn.recurrent_layers[0].cell
    kernel = ops.convert_to_numpy(cell.kernel)
    U, V_inj = kernel[:4], kernel[4:]  # the input kernel is [U ; V'] over [x_t ; m_t]
    W, b = ops.convert_to_numpy(cell.recurrent_kernel), ops.convert_to_numpy(cell.bias)
    V = ops.convert_to_numpy(decoder.image_projection.kernel) @ V_inj  # the image's total map: V = P . V'
    E = ops.convert_to_numpy(decoder.embedding.embeddings)
    Wo, bo = ops.convert_to_numpy(decoder.output_layer.kernel), ops.convert_to_numpy(decoder.output_layer.bias)

    state = np.zeros((3, 5))
    for t in range(TOKENS.shape[1]):
        pre_activation = E[TOKENS[:, t]] @ U + state @ W + b
        if t == 0:
            pre_activation = pre_activation + img @ V
        state = np.tanh(pre_activation)
        valid = TOKENS[:, t] != 0
        np.testing.assert_allclose(logits[valid, t], (state @ Wo + bo)[valid], rtol=1e-4, atol=1e-5)


def test_first_step_image_changes_only_what_flows_from_step_zero():
    decoder = CaptionDecoder(12, feature_dim=6, embedding_dim=4, units=5, cell="simple", inject="first_step")
    states, context = decoder.initial_decode_state(_features())
    zero_states = [np.zeros_like(ops.convert_to_numpy(s)) for s in states]
    context = ops.convert_to_numpy(context)
    # A later step (first=False) ignores the image entirely: same output for any context.
    later_a, _ = decoder.decode_step(np.array([5, 4, 8]), zero_states, context, first=False)
    later_b, _ = decoder.decode_step(np.array([5, 4, 8]), zero_states, np.zeros_like(context), first=False)
    np.testing.assert_array_equal(ops.convert_to_numpy(later_a), ops.convert_to_numpy(later_b))
    first_a, _ = decoder.decode_step(np.array([2, 2, 2]), zero_states, context, first=True)
    first_b, _ = decoder.decode_step(np.array([2, 2, 2]), zero_states, np.zeros_like(context), first=True)
    assert not np.allclose(ops.convert_to_numpy(first_a), ops.convert_to_numpy(first_b))


def test_feature_statistics_centre_and_scale_and_refuse_bad_arrays():
    decoder = CaptionDecoder(12, feature_dim=3, embedding_dim=4, units=5)
    identity = ops.convert_to_numpy(decoder.standardize(_features(dim=3)))
    np.testing.assert_array_equal(identity, _features(dim=3))  # before adapt_features: unchanged
    training = np.column_stack([10 + 2 * _features(200, 1, seed=1)[:, 0], _features(200, 1, seed=2)[:, 0],
                                np.full(200, 0.5)])
    decoder.adapt_features(training)
    standardised = ops.convert_to_numpy(decoder.standardize(training))
    np.testing.assert_allclose(standardised[:, :2].mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(standardised[:, :2].std(0), 1, atol=1e-4)
    # A dimension constant in training is centred, and a new value there is not blown up by a zero spread.
    assert np.abs(standardised[:, 2]).max() < 1e-6
    far = ops.convert_to_numpy(decoder.standardize(np.array([[10.0, 0.0, 0.6]])))[0, 2]
    assert 0 < far <= 0.1 / (CaptionDecoder.MIN_RELATIVE_STD * np.median(training.std(0))) + 1e-3
    for bad, message in ((np.ones((4, 2)), r"\(N, 3\)"), (np.ones((0, 3)), "N >= 1"),
                         (np.array([[1.0, np.nan, 0.0]]), "NaN")):
        with pytest.raises(ValueError, match=message):
            decoder.adapt_features(bad)


def test_a_file_without_feature_statistics_loads_with_the_identity():
    decoder = CaptionDecoder(12, feature_dim=3, embedding_dim=4, units=5)
    decoder.load_own_variables({})  # what a .keras file written before the statistics existed holds
    np.testing.assert_array_equal(ops.convert_to_numpy(decoder.feature_scale), np.ones(3, np.float32))
    decoder.load_own_variables({"0": np.full(3, 2.0), "1": np.full(3, 0.5)})
    np.testing.assert_array_equal(ops.convert_to_numpy(decoder.standardize(np.full((1, 3), 4.0))), [[1.0] * 3])


@pytest.mark.parametrize("inject", INJECT_MODES)
@pytest.mark.parametrize("cell, layers", [("lstm", 2), ("gru", 1)])
def test_stepwise_decoding_equals_full_sequence(inject, cell, layers):
    decoder = CaptionDecoder(12, feature_dim=6, embedding_dim=4, units=5, cell=cell, layers=layers, inject=inject)
    features = _features()
    full = ops.convert_to_numpy(decoder(features, TOKENS))
    states, context = decoder.initial_decode_state(features)
    for t in range(TOKENS.shape[1]):
        logits, states = decoder.decode_step(TOKENS[:, t], states, context, first=t == 0)
        valid = TOKENS[:, t] != 0
        np.testing.assert_allclose(ops.convert_to_numpy(logits)[valid], full[valid, t], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("inject", INJECT_MODES)
def test_every_mode_uses_the_image(inject):
    decoder = CaptionDecoder(12, feature_dim=6, embedding_dim=4, units=5, cell="gru", inject=inject)
    a = ops.convert_to_numpy(decoder(_features(seed=1), TOKENS))
    b = ops.convert_to_numpy(decoder(_features(seed=2), TOKENS))
    assert not np.allclose(a[:, -1], b[:, -1])


def test_padding_does_not_change_logits():
    decoder = CaptionDecoder(12, feature_dim=6, embedding_dim=4, units=5, cell="lstm", inject="pre_inject")
    features = _features()
    short = ops.convert_to_numpy(decoder(features, TOKENS[:, :3]))
    padded = ops.convert_to_numpy(decoder(features, np.pad(TOKENS[:, :3], ((0, 0), (0, 4)))))
    valid = TOKENS[:, :3] != 0
    np.testing.assert_allclose(short[valid], padded[:, :3][valid], rtol=1e-5, atol=1e-6)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="inject mode 'sideways'"):
        CaptionDecoder(12, feature_dim=6, inject="sideways")
    with pytest.raises(ValueError, match="feature_dim"):
        CaptionDecoder(12, feature_dim=0)
