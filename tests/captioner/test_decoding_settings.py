"""Decoding settings stored in the model: checked, saved and loaded, and the ones every captioning path uses
(Python API, the caption command, the server, the exported SavedModel) unless overridden."""

from __future__ import annotations

import json
import warnings
import zipfile

import keras
import numpy as np
import pytest

from captioner.api import Captioner, CaptionerLoadError
from captioner.cli import main
from captioner.decoding_settings import DEFAULT_BEAM_SIZE, DecodingSettings
from captioner.errors import DecodingSettingsError
from captioner.model import CaptionModel, fit_caption_vocabulary
from textmodels.decoding import DEFAULT_LENGTH_PENALTY

pytestmark = pytest.mark.all_backends

ENCODER = {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8}
# Not one of them is a default; block_ngram=1 forbids any word twice, so "a ... a ..." captions must change.
STORED = DecodingSettings(beam_size=4, length_penalty=0.0, max_length=9, min_length=3, block_ngram=1)


def _tiny_model(**kwargs) -> CaptionModel:
    text_encoder = fit_caption_vocabulary(["a red circle above a blue square", "a green triangle"], min_count=1,
                                          max_length=8)
    return CaptionModel.create(text_encoder, ENCODER, embedding_dim=8, units=12, **kwargs)


def _rewrite_config(path, change) -> None:
    """Edit the model config inside the .keras archive at ``path`` as a file from elsewhere might have it."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    change(config["config"])
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("overrides, fragment", [
    ({"beam_size": 0}, "beam_size must be an integer from 1 to 100, got 0"),
    ({"beam_size": 2.5}, "beam_size must be an integer"),
    ({"beam_size": True}, "beam_size must be an integer"),
    ({"length_penalty": -0.1}, "length_penalty must be a number from 0 to 5, got -0.1"),
    ({"length_penalty": float("nan")}, "length_penalty must be a number"),
    ({"max_length": 0}, "max_length must be None or an integer from 1 to 200, got 0"),
    ({"min_length": -1}, "min_length must be an integer from 0 to 200, got -1"),
    ({"min_length": 6, "max_length": 5}, "min_length (6) must not exceed max_length (5)"),
    ({"block_ngram": -2}, "block_ngram must be an integer from 0 to 10, got -2"),
    ({"width": 3}, "unknown decoding setting(s) width"),
])
def test_nonsense_settings_are_refused_naming_the_setting(overrides, fragment):
    with pytest.raises(DecodingSettingsError) as caught:
        DecodingSettings().replace(**overrides)
    assert fragment in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_one_default_for_each_setting():
    settings = DecodingSettings()
    assert (settings.beam_size, settings.length_penalty) == (DEFAULT_BEAM_SIZE, DEFAULT_LENGTH_PENALTY) == (3, 0.7)
    assert (settings.max_length, settings.min_length, settings.block_ngram) == (None, 0, 0)
    assert _tiny_model().decoding == settings


def test_the_model_refuses_a_minimum_longer_than_its_longest_caption():
    model = _tiny_model()
    with pytest.raises(DecodingSettingsError, match=r"min_length \(9\) must not exceed the longest caption \(8 "):
        model.decoding = DecodingSettings(min_length=9)
    with pytest.raises(DecodingSettingsError, match="min_length"):
        model.generate(np.zeros((1, 8), "float32"), min_length=9)
    assert model.decoding == DecodingSettings()


def test_stored_settings_round_trip_through_save_and_load(tmp_path):
    model = _tiny_model(decoding=STORED)
    path = Captioner(model).save(tmp_path / "stored.keras")
    loaded = Captioner.load(path)
    assert loaded.decoding == STORED
    images = np.random.default_rng(0).uniform(0, 255, (3, 16, 16, 3)).astype("float32")
    assert loaded.caption(images) == Captioner(model).caption(images)
    features = model.encode_images(images)
    for original, again in zip(model.generate(features, num_return=4), loaded.model.generate(features, num_return=4)):
        assert [(h.tokens, h.log_prob) for h in original] == [(h.tokens, h.log_prob) for h in again]
        assert all(3 <= len(h.tokens) and len(set(h.tokens)) == len(h.tokens) for h in again)


def test_a_model_saved_before_the_settings_existed_loads_with_the_defaults_silently(tmp_path, capfd):
    model = _tiny_model()
    path = Captioner(model).save(tmp_path / "old.keras")
    _rewrite_config(path, lambda config: config.pop("decoding"))
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = Captioner.load(path)
    assert loaded.decoding == DecodingSettings()
    # Silently: no warning of the project's (PyTorch's tensors add NumPy 2 deprecation notices on that backend).
    assert [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)] == []
    assert "decoding" not in capfd.readouterr().err
    images = np.random.default_rng(1).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    assert loaded.caption(images) == Captioner(model).caption(images, beam_size=3, length_penalty=0.7)


@pytest.mark.parametrize("stored, fragment", [
    ({"beam_size": 0}, "decoding setting beam_size must be an integer from 1 to 100, got 0"),
    ({"length_penalty": -1}, "decoding setting length_penalty must be a number from 0 to 5, got -1"),
    ({"min_length": 7, "max_length": 4}, "decoding setting min_length (7) must not exceed max_length (4)"),
    ({"beam": 3}, "unknown decoding setting(s) beam"),
])
def test_out_of_range_settings_in_a_model_file_are_refused_at_load_naming_file_and_setting(tmp_path, stored, fragment):
    path = Captioner(_tiny_model()).save(tmp_path / "bad.keras")
    _rewrite_config(path, lambda config: config.update(decoding=stored))
    with pytest.raises(CaptionerLoadError) as caught:
        Captioner.load(path)
    assert str(caught.value).startswith(f"{path}: {fragment}")


def test_an_argument_overrides_one_stored_setting_for_one_call():
    model = _tiny_model(decoding=STORED)
    captioner = Captioner(model)
    image = np.random.default_rng(2).uniform(0, 255, (16, 16, 3))
    candidates = captioner.caption(image, return_scores=True)
    assert len(candidates) == STORED.beam_size
    assert len(captioner.caption(image, beam_size=2, return_scores=True)) == 2
    assert captioner.caption(image, min_length=0, block_ngram=0, beam_size=3, length_penalty=0.7, max_length=8) == \
        Captioner(_copy_with(model, DecodingSettings())).caption(image)
    assert model.decoding == STORED  # the override was for that call only
    with pytest.raises(DecodingSettingsError, match="beam_size must be an integer from 1 to 100, got 0"):
        captioner.caption(image, beam_size=0)
    with pytest.raises(DecodingSettingsError, match=r"min_length \(5\) must not exceed max_length \(4\)"):
        captioner.caption(image, min_length=5, max_length=4)


def _copy_with(model: CaptionModel, settings: DecodingSettings) -> CaptionModel:
    copy = CaptionModel.from_config({**model.get_config(), "decoding": settings.get_config()})
    copy.set_weights(model.get_weights())
    return copy


@pytest.fixture(scope="module")
def stored_model(trained_captioner, tmp_path_factory):
    """The trained synthetic-shapes captioner saved with `STORED` decoding, its test photos, and the captions
    it gives with the defaults (to show that the stored settings change them)."""
    default = Captioner.load(trained_captioner[0])
    photos = [str(path) for path in trained_captioner[2][:8]]
    default_captions = default.caption(photos)
    default.model.decoding = STORED
    path = default.save(tmp_path_factory.mktemp("stored") / "stored.keras")
    return path, photos, default_captions


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the SavedModel export is TensorFlow's")
def test_the_api_the_caption_command_the_server_and_the_savedmodel_give_the_same_captions(stored_model, tmp_path,
                                                                                        capsys):
    import tensorflow as tf
    from fastapi.testclient import TestClient

    from captioner.export.saved_model import SIGNATURE_NAME, export_saved_model
    from captioner.serving.app import create_app
    from captioner.serving.batcher import CaptionBatcher
    from captioner.serving.settings import ServingSettings

    path, photos, default_captions = stored_model
    captioner = Captioner.load(path)
    assert captioner.decoding == STORED
    by_api = captioner.caption(photos)
    # The stored settings are in force: no caption repeats a word (the defaults' captions do), none is short.
    assert all(len(caption.split()) == len(set(caption.split())) >= 3 for caption in by_api), by_api
    assert sum(api != default for api, default in zip(by_api, default_captions)) >= len(photos) // 2

    assert main(["caption", str(path), *photos, "--json"]) == 0
    by_command = [row["caption"] for row in json.loads(capsys.readouterr().out)]

    batcher = CaptionBatcher(captioner)
    batcher.start()
    try:
        batcher.wait_until_ready()  # the server answers 503 until its warm-up has traced every batch shape
        client = TestClient(create_app(batcher, ServingSettings(), model_name=path.name))
        answers = [client.post("/caption", files={"image": (photo, open(photo, "rb").read(), "image/png")}).json()
                   for photo in photos]
        assert client.get("/health").json()["decoding"] == {**STORED.get_config()}
    finally:
        batcher.stop()
    by_server = [answer["captions"][0]["caption"] for answer in answers]
    assert {answer["beam_size"] for answer in answers} == {STORED.beam_size}

    out = export_saved_model(path, tmp_path / "savedmodel", num_captions=1)
    serve = tf.saved_model.load(str(out)).signatures[SIGNATURE_NAME]
    result = serve(images=tf.constant([open(photo, "rb").read() for photo in photos]))
    by_savedmodel = [caption.decode() for caption in result["captions"][:, 0].numpy()]

    assert by_api == by_command == by_server == by_savedmodel


def test_a_flag_overrides_the_stored_setting(stored_model, capsys):
    path, photos, default_captions = stored_model
    assert main(["caption", str(path), *photos, "--json", "--beam-size", "3", "--length-penalty", "0.7",
                 "--min-length", "0", "--block-ngram", "0", "--max-length", "12"]) == 0
    overridden = [row["caption"] for row in json.loads(capsys.readouterr().out)]
    assert overridden == default_captions
    assert overridden == Captioner.load(path).caption(photos, beam_size=3, length_penalty=0.7, min_length=0,
                                                      block_ngram=0, max_length=12)


@pytest.mark.parametrize("flags, fragment", [
    (["--beam-size", "0"], "--beam-size: must be a positive integer, got 0"),
    (["--length-penalty", "-1"], "--length-penalty: must be a number >= 0, got -1"),
    (["--min-length", "-3"], "--min-length: must be an integer >= 0, got -3"),
])
def test_a_nonsense_flag_is_refused_by_the_command_line(stored_model, flags, fragment, capsys):
    path, photos, _ = stored_model
    assert main(["caption", str(path), photos[0], *flags]) == 2
    assert fragment in capsys.readouterr().err


@pytest.mark.parametrize("flags, fragment", [
    (["--beam-size", "500"], "error: decoding setting beam_size must be an integer from 1 to 100, got 500"),
    (["--min-length", "6", "--max-length", "4"], "error: decoding setting min_length (6) must not exceed max_length"),
    (["--length-penalty", "9"], "error: decoding setting length_penalty must be a number from 0 to 5, got 9.0"),
])
def test_a_flag_out_of_the_settings_range_is_a_clear_error(stored_model, flags, fragment, capsys):
    path, photos, _ = stored_model
    assert main(["caption", str(path), photos[0], *flags]) == 2
    error = capsys.readouterr().err
    assert fragment in error and "Traceback" not in error


def test_max_length_bounds_the_words_of_every_caption():
    model = _tiny_model()  # untrained: it would rarely stop by itself
    images = np.random.default_rng(3).uniform(0, 255, (4, 16, 16, 3)).astype("float32")
    for limit in (1, 3, 8):
        for hyps in model.generate(model.encode_images(images), max_length=limit, num_return=3):
            assert all(len(hyp.tokens) <= limit for hyp in hyps)
    assert all(len(caption.split()) <= 2 for caption in Captioner(model).caption(images, max_length=2))
