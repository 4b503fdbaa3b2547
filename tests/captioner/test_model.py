"""The captioner model: every inject mode trains and round-trips .keras; decoding is step-wise and consistent."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from captioner.api import Captioner
from captioner.decoder import INJECT_MODES
from captioner.model import CaptionModel, fit_caption_vocabulary
from textmodels.decoding import greedy_search
from textmodels.text import Vocabulary

pytestmark = pytest.mark.all_backends

CAPTIONS = ["a red circle above a blue square", "a blue square below a red circle", "a green triangle"]
ENCODER = {"kind": "small", "image_size": 16, "conv_filters": [4, 8], "feature_dim": 16}


def _model(inject="first_step", cell="lstm", **options):
    text_encoder = fit_caption_vocabulary(CAPTIONS, min_count=1, max_length=8)
    return CaptionModel.create(text_encoder, ENCODER, embedding_dim=8, units=12, cell=cell, inject=inject, **options)


def _images(rows=3, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, size=(rows, 16, 16, 3)).astype("float32")


def _compile(model):
    # Eager: tracing the training graph costs far more than the one step these tests train.
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
                  run_eagerly=True)


@pytest.mark.parametrize("inject", INJECT_MODES)
def test_every_inject_mode_trains_a_step_and_round_trips(inject, tmp_path):
    model = _model(inject)
    _compile(model)
    ids = model.text_encoder.encode(CAPTIONS)
    inputs = {"images": _images(), "tokens": ids[:, :-1]}
    # Feature statistics that are not the identity, so the round trip covers them too.
    model.decoder.adapt_features(np.random.default_rng(1).normal(2.0, 3.0, size=(20, model.feature_dim)))
    before = [np.array(w) for w in model.decoder.get_weights()]
    model.fit(inputs, ids[:, 1:], epochs=1, batch_size=3, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.decoder.get_weights()))

    path = Captioner(model).save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, CaptionModel) and loaded.decoder.inject == inject
    assert loaded.text_encoder.vocabulary.tokens == model.text_encoder.vocabulary.tokens
    np.testing.assert_array_equal(ops.convert_to_numpy(model(inputs)), ops.convert_to_numpy(loaded(inputs)))
    images = _images(seed=5)
    assert model.caption_images(images) == loaded.caption_images(images)


def test_several_captions_per_image_match_one_caption_rows():
    model = _model("par_inject")
    ids = model.text_encoder.encode(CAPTIONS)[:, :-1]
    images = _images(rows=1)
    grouped = ops.convert_to_numpy(model({"images": images, "tokens": ids[None]}))
    flat = ops.convert_to_numpy(model({"images": np.repeat(images, 3, axis=0), "tokens": ids}))
    np.testing.assert_allclose(grouped[0], flat, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("inject", ["first_step", "pre_inject", "merge"])
def test_compiled_step_decoding_equals_full_forward(inject):
    model = _model(inject, cell="gru")
    features = model.encode_images(_images())
    ids = model.text_encoder.encode(CAPTIONS)
    full = ops.convert_to_numpy(keras.ops.log_softmax(model.decoder(features, ids[:, :-1]), axis=-1))
    start, step = model.decoding_functions()
    state = start(features)
    for t in range(ids.shape[1] - 1):
        log_probs, state = step(ids[:, t], state)
        valid = ids[:, t] != 0
        np.testing.assert_allclose(log_probs[valid], full[valid, t], rtol=1e-4, atol=1e-5)


def test_beam_of_one_is_greedy_on_the_real_model():
    model = _model("first_step")
    features = model.encode_images(_images(rows=4))
    start, step = model.decoding_functions()
    greedy = greedy_search(step, start(features), 4, bos_id=Vocabulary.bos_id, eos_id=Vocabulary.eos_id,
                           max_length=model.max_caption_length + 1, banned_ids=(0, 1, 2), eos_at_max_length=True)
    beam = model.generate(features, beam_size=1)
    assert [hyps[0].tokens for hyps in beam] == greedy


def test_beam_log_probs_are_the_models_own():
    model = _model("init_state")
    features = model.encode_images(_images(rows=2))
    hypotheses = model.generate(features, beam_size=3, num_return=3)
    for row, hyps in enumerate(hypotheses):
        assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)
        for hyp in hyps:
            assert len(hyp.tokens) <= model.max_caption_length  # every hypothesis ends with <eos>
            rescored = model.sequence_log_probs(features[row : row + 1], [hyp.tokens])[0]
            assert rescored == pytest.approx(hyp.log_prob, abs=1e-4)


def test_sampling_is_seeded_and_scored():
    model = _model("merge")
    features = model.encode_images(_images(rows=3))
    first = model.generate(features, temperature=1.5, seed=3)
    again = model.generate(features, temperature=1.5, seed=3)
    assert [h[0].tokens for h in first] == [h[0].tokens for h in again]
    assert all(h[0].log_prob < 0 for h in first)


def test_image_blind_model_ignores_the_image_and_has_no_encoder(tmp_path):
    model = _model(image_blind=True)
    assert model.encoder is None
    ids = model.text_encoder.encode(CAPTIONS)[:, :-1]
    a = ops.convert_to_numpy(model({"images": _images(seed=1), "tokens": ids}))
    b = ops.convert_to_numpy(model({"images": _images(seed=2), "tokens": ids}))
    np.testing.assert_array_equal(a, b)
    loaded = keras.saving.load_model(Captioner(model).save(tmp_path / "blind.keras"), safe_mode=True)
    assert loaded.image_blind and loaded.encoder is None


def test_inconsistent_parts_and_bad_inputs_raise_clear_errors():
    model = _model()
    with pytest.raises(ValueError, match="feature_dim"):
        CaptionModel(model.text_encoder, {**ENCODER, "feature_dim": 99}, model.decoder)
    with pytest.raises(ValueError, match="images must have shape"):
        model.encode_images(np.zeros((2, 8, 8, 3)))
    with pytest.raises(ValueError, match="features must have shape"):
        model.generate(np.zeros((2, 5)))


def test_long_captions_keep_their_end_marker():
    encoder = fit_caption_vocabulary(["one two three four five"], min_count=1, max_length=3)
    ids = encoder.encode(["one two three four five"])[0].tolist()
    assert ids[0] == Vocabulary.bos_id and ids[-1] == Vocabulary.eos_id and len(ids) == 5
