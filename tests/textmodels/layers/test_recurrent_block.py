"""RecurrentBlock behaviour beyond the shared contract: options, errors, state carrying and the fast path."""

import numpy as np
import pytest
from keras import ops

from textmodels.layers import RecurrentBlock, halve_mask, halve_time

pytestmark = pytest.mark.all_backends


def test_stepping_with_carried_state_equals_the_full_run():
    rng = np.random.default_rng(0)
    x, image = rng.normal(size=(2, 6, 3)).astype("float32"), rng.normal(size=(2, 2)).astype("float32")
    block = RecurrentBlock(4, cell="lstm", layers=2, injection_dim=2)
    full = ops.convert_to_numpy(block(x, injection=image))
    states, steps = block.get_initial_state(2), []
    for t in range(6):
        output, states = block(x[:, t : t + 1], injection=image if t == 0 else None,
                               initial_state=states, return_state=True)
        steps.append(ops.convert_to_numpy(output)[:, 0])
    np.testing.assert_allclose(np.stack(steps, 1), full, atol=1e-6)
    assert len(states) == 4  # (h, c) for each of two layers


@pytest.mark.parametrize("cell", ["simple", "gru", "lstm", "peephole_lstm", "coupled_lstm"])
def test_one_step_without_the_time_loop_equals_the_full_run(cell):
    # step() calls the cells directly (decoding's fast path); it must follow the sequence path exactly,
    # injection at step 0 included, with carried states.
    rng = np.random.default_rng(2)
    x, image = rng.normal(size=(3, 4, 5)).astype("float32"), rng.normal(size=(3, 2)).astype("float32")
    block = RecurrentBlock(6, cell=cell, layers=2, injection_dim=2)
    full, full_states = block(x, injection=image, initial_state=block.get_initial_state(3), return_state=True)
    states, steps = block.get_initial_state(3), []
    for t in range(4):
        output, states = block.step(x[:, t], states, injection=image if t == 0 else None)
        steps.append(ops.convert_to_numpy(output))
    np.testing.assert_allclose(np.stack(steps, 1), ops.convert_to_numpy(full), atol=1e-5)
    for stepped, whole in zip(states, full_states, strict=True):
        np.testing.assert_allclose(ops.convert_to_numpy(stepped), ops.convert_to_numpy(whole), atol=1e-5)


def test_one_step_is_for_unidirectional_blocks_with_matching_states():
    x = np.zeros((1, 3), "float32")
    with pytest.raises(ValueError, match="unidirectional"):
        RecurrentBlock(4, bidirectional=True).step(x, [])
    with pytest.raises(ValueError, match="needs 4 tensors"):
        RecurrentBlock(4, cell="lstm", layers=2).step(x, [np.zeros((1, 4), "float32")])
    with pytest.raises(ValueError, match="no injection"):
        RecurrentBlock(4, cell="gru").step(x, [np.zeros((1, 4), "float32")], injection=np.zeros((1, 2)))


def test_bidirectional_final_output_reads_each_direction_where_it_ends():
    x = np.random.default_rng(1).normal(size=(2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    sequences = RecurrentBlock(4, bidirectional=True, name="shared")
    sequences(x, mask=mask)
    final = RecurrentBlock(4, bidirectional=True, return_sequences=False)
    final(x, mask=mask)
    final.set_weights(sequences.get_weights())
    outputs, summary = ops.convert_to_numpy(sequences(x, mask=mask)), ops.convert_to_numpy(final(x, mask=mask))
    np.testing.assert_allclose(summary[0, :4], outputs[0, 2, :4], atol=1e-6)  # forward: last valid step
    np.testing.assert_allclose(summary[0, 4:], outputs[0, 0, 4:], atol=1e-6)  # backward: step 0


def test_halving_pairs_steps_and_masks():
    x = np.arange(1, 6, dtype="float32").reshape(1, 5, 1)
    mask = np.array([[True, True, True, False, False]])
    halved, halved_mask = halve_time(x, mask)
    assert ops.convert_to_numpy(halved)[0].tolist() == [[1, 2], [3, 0], [0, 0]]
    assert ops.convert_to_numpy(halved_mask).tolist() == [[True, True, False]]
    assert ops.convert_to_numpy(halve_mask(np.array([[True]]))).tolist() == [[True]]


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(cell="rnn"), "valid cells: simple, gru, lstm, peephole_lstm, coupled_lstm"),
        (dict(pyramidal=True), "needs layers >= 2"),
        (dict(merge_mode="mul"), "valid modes: concat, sum"),
        (dict(dropout=1.0), "dropout must be in"),
        (dict(layers=0), "layers must be a positive integer"),
    ],
)
def test_invalid_options_are_explained(options, message):
    with pytest.raises(ValueError, match=message):
        RecurrentBlock(4, **options)


def test_state_options_need_a_unidirectional_block_and_matching_states():
    x = np.zeros((1, 2, 3), "float32")
    with pytest.raises(ValueError, match="unidirectional"):
        RecurrentBlock(4, bidirectional=True)(x, return_state=True)
    with pytest.raises(ValueError, match="needs 2 tensors"):
        RecurrentBlock(4, cell="lstm")(x, initial_state=[np.zeros((1, 4), "float32")])


def test_fused_kernel_eligibility_is_reported():
    assert RecurrentBlock(4, cell="lstm", bidirectional=True, layers=2, injection_dim=3).fused_kernel_eligible
    assert not RecurrentBlock(4, cell="lstm", recurrent_dropout=0.2).fused_kernel_eligible
    assert not RecurrentBlock(4, cell="peephole_lstm").fused_kernel_eligible


def test_pyramidal_block_feeds_masked_pooling_in_a_functional_model(tmp_path):
    import keras

    from textmodels.layers import SequencePooling, TextEmbedding

    inputs = keras.Input((None,), dtype="int32")
    states = RecurrentBlock(4, layers=3, pyramidal=True)(TextEmbedding(20, 3)(inputs))
    model = keras.Model(inputs, SequencePooling("mean")(states))
    ids = np.array([[3, 4, 5, 6, 7, 0, 0], [2, 0, 0, 0, 0, 0, 0]])
    longer = np.concatenate([ids, np.zeros((2, 6), int)], axis=1)
    np.testing.assert_allclose(model.predict(ids, verbose=0), model.predict(longer, verbose=0), atol=1e-6)
    model.save(tmp_path / "pyramid.keras")
    loaded = keras.saving.load_model(tmp_path / "pyramid.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded.predict(ids, verbose=0), model.predict(ids, verbose=0))
