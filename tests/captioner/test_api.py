"""The Python API: Captioner.load once, caption paths / PIL images / arrays / lists, bad items per item."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from PIL import Image

from captioner.api import Captioner, CaptionerLoadError, CaptionFailure
from captioner.data.images import ImageLoadError
from captioner.model import CaptionModel, fit_caption_vocabulary

pytestmark = pytest.mark.all_backends

ENCODER = {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8}


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    text_encoder = fit_caption_vocabulary(["a red circle above a blue square", "a green triangle"], min_count=1,
                                          max_length=8)
    model = CaptionModel.create(text_encoder, ENCODER, embedding_dim=8, units=12)
    return Captioner(model).save(tmp_path_factory.mktemp("model") / "captioner.keras")


@pytest.fixture(scope="module")
def captioner(model_path):
    return Captioner.load(model_path)


@pytest.fixture
def images(tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(good)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    truncated = tmp_path / "truncated.jpg"
    Image.new("RGB", (40, 40), (200, 10, 10)).save(truncated, format="JPEG")
    truncated.write_bytes(truncated.read_bytes()[:60])
    return {"good": good, "empty": empty, "text": text, "truncated": truncated, "missing": tmp_path / "gone.png"}


def test_package_exports_captioner_lazily():
    import captioner as package

    assert package.Captioner is Captioner


def test_one_input_of_each_kind_gives_one_caption(captioner, images):
    by_path = captioner.caption(images["good"])
    assert isinstance(by_path, str)
    assert captioner.caption(str(images["good"])) == by_path
    assert captioner.caption(Image.open(images["good"])) == by_path
    array = np.asarray(Image.open(images["good"]))
    assert captioner.caption(array) == by_path
    assert isinstance(captioner.caption(array.mean(axis=-1)), str)  # grayscale (H, W)


def test_a_list_keeps_order_and_reports_bad_items_per_item(captioner, images):
    inputs = [images["good"], images["empty"], images["text"], images["truncated"], images["missing"],
              np.zeros((5, 5, 4)), np.zeros((9, 9, 3), np.int64), images["good"]]
    results = captioner.caption(inputs, beam_size=2)
    assert len(results) == len(inputs)
    assert isinstance(results[0], str) and results[0] == results[-1]
    failures = results[1:-1]
    assert all(isinstance(f, CaptionFailure) and not f for f in failures)
    for failure, name in zip(failures, ("empty.jpg", "notes.png", "truncated.jpg", "gone.png")):
        assert name in failure.error
    assert "(H, W, 3)" in failures[4].error and "dtype" in failures[5].error
    assert [f.index for f in failures] == [1, 2, 3, 4, 5, 6]


def test_a_single_bad_input_raises_naming_the_file(captioner, images):
    with pytest.raises(ImageLoadError, match="empty.jpg"):
        captioner.caption(images["empty"])


def test_a_batch_array_gives_a_list(captioner):
    results = captioner.caption(np.zeros((3, 10, 10, 3), np.uint8), beam_size=1)
    assert len(results) == 3 and all(isinstance(text, str) for text in results)


def test_return_scores_gives_the_beam_candidates_best_first(captioner, images):
    candidates = captioner.caption(images["good"], beam_size=3, return_scores=True)
    assert 1 <= len(candidates) <= 3
    assert all(c["log_prob"] <= 0 for c in candidates)
    assert [c["score"] for c in candidates] == sorted((c["score"] for c in candidates), reverse=True)
    assert candidates[0]["caption"] == captioner.caption(images["good"], beam_size=3)


def test_sampling_with_temperature(captioner, images):
    a = captioner.caption(images["good"], temperature=1.0, seed=1)
    assert a == captioner.caption(images["good"], temperature=1.0, seed=1)
    scored = captioner.caption(images["good"], temperature=0.0, return_scores=True)
    assert scored[0]["caption"] == captioner.caption(images["good"], beam_size=1)


def test_a_keras_file_that_is_not_a_captioner_is_refused(tmp_path):
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    other.save(tmp_path / "classifier.keras")
    with pytest.raises(CaptionerLoadError, match=r"holds a Sequential model, not a captioner \(CaptionModel\)"):
        Captioner.load(tmp_path / "classifier.keras")
    (tmp_path / "junk.keras").write_bytes(b"junk")
    with pytest.raises(CaptionerLoadError, match="junk.keras: not a .keras model archive"):
        Captioner.load(tmp_path / "junk.keras")
    with pytest.raises(CaptionerLoadError, match="absent.keras: no such model file"):
        Captioner.load(tmp_path / "absent.keras")
