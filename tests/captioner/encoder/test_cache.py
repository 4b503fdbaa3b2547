"""FeatureCache persistence, resumption, mismatch/corruption detection, and extract_features end to end."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from captioner.data import CaptionRecord
from captioner.encoder.cache import (
    CacheMismatchError,
    FeatureCache,
    FeatureCacheError,
    config_hash,
    extract_features,
)
from captioner.encoder.preprocessing import vgg_preprocess

CONFIG = {"encoder": "tiny", "image_size": [8, 8], "layers": 2}
IDS = ["img1", "img2", "img3"]


def _cache(folder, ids=IDS, dim=4, config=CONFIG, **kwargs):
    return FeatureCache(folder, ids, dim, config, **kwargs)


def test_writes_persist_and_resume_across_instances(tmp_path):
    cache = _cache(tmp_path)
    assert cache.missing_ids() == IDS and not cache.is_complete()
    values = np.arange(8, dtype=np.float32).reshape(2, 4)
    cache.write(["img3", "img1"], values)
    reopened = _cache(tmp_path)
    assert reopened.missing_ids() == ["img2"]
    np.testing.assert_array_equal(reopened.read(["img1", "img3"]), values[::-1])
    reopened.write(["img2"], np.ones((1, 4)))
    assert _cache(tmp_path).is_complete()
    assert config_hash({"b": 1, "a": [1, 2]}) == config_hash({"a": [1, 2], "b": 1})
    assert config_hash({"a": [1, 2]}) != config_hash({"a": [2, 1]})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"config": {**CONFIG, "layers": 3}}, "encoder_config_sha256"),
        ({"ids": ["img1", "img2"]}, "num_images"),
        ({"ids": ["img1", "img2", "other"]}, "image_ids_sha256"),
        ({"ids": ["img2", "img1", "img3"]}, "image_ids_sha256"),
        ({"dim": 5}, "dim"),
    ],
)
def test_mismatch_raises_or_rebuilds(tmp_path, changes, field):
    _cache(tmp_path).write(["img1"], np.ones((1, 4)))
    kwargs = {key: value for key, value in changes.items()}
    with pytest.raises(CacheMismatchError, match=f"{field} is .* on disk"):
        _cache(tmp_path, **kwargs)
    rebuilt = _cache(tmp_path, on_mismatch="rebuild", **kwargs)
    assert rebuilt.missing_ids() == list(kwargs.get("ids", IDS))
    assert _cache(tmp_path, **kwargs).missing_ids() == rebuilt.missing_ids()  # the new cache now matches


def _truncate(path: Path):
    path.write_bytes(path.read_bytes()[:-9])


def _object_array(path: Path):
    np.save(path, np.array([{"a": 1}, None, 3], dtype=object), allow_pickle=True)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: _truncate(d / "features.npy"), "features.npy is missing or damaged"),
        (lambda d: (d / "features.npy").write_bytes(b"garbage"), "features.npy is missing or damaged"),
        (lambda d: (d / "done.npy").unlink(), "done.npy is missing or damaged"),
        (lambda d: _object_array(d / "done.npy"), "done.npy holds object"),
        (lambda d: np.save(d / "features.npy", np.zeros((3, 4), np.float64)), "features.npy holds float64"),
        (lambda d: np.save(d / "done.npy", np.full(3, 7, np.uint8)), "done flags other than 0 and 1"),
        (lambda d: (d / "meta.json").write_text("{truncated"), "meta.json is unreadable"),
        (lambda d: (d / "meta.json").write_text("[]"), "not a JSON object"),
    ],
)
def test_damaged_files_are_detected(tmp_path, damage, message):
    _cache(tmp_path).write(["img1"], np.ones((1, 4)))
    damage(tmp_path)
    with pytest.raises(CacheMismatchError, match=message):
        _cache(tmp_path)
    assert _cache(tmp_path, on_mismatch="rebuild").missing_ids() == IDS


def test_non_finite_values_on_disk_are_detected_on_read(tmp_path):
    _cache(tmp_path).write(["img1"], np.ones((1, 4)))
    features = np.load(tmp_path / "features.npy", allow_pickle=False)
    features[0, 2] = np.nan
    np.save(tmp_path / "features.npy", features)
    with pytest.raises(CacheMismatchError, match="non-finite"):
        _cache(tmp_path).read(["img1"])


def test_bad_writes_and_reads_name_the_problem(tmp_path):
    cache = _cache(tmp_path)
    with pytest.raises(FeatureCacheError, match="'nope' is not in this cache"):
        cache.write(["nope"], np.ones((1, 4)))
    with pytest.raises(FeatureCacheError, match=r"shape \(1, 3\), expected \(1, 4\)"):
        cache.write(["img1"], np.ones((1, 3)))
    with pytest.raises(FeatureCacheError, match="'img2' contain NaN"):
        cache.write(["img1", "img2"], [[1, 2, 3, 4], [1, np.inf, 3, 4]])
    with pytest.raises(FeatureCacheError, match="not computed yet, e.g. 'img1'"):
        cache.read(["img1"])
    assert cache.missing_ids() == IDS  # rejected writes stored nothing
    with pytest.raises(FeatureCacheError, match="'a' appears more than once"):
        FeatureCache(tmp_path / "other", ["a", "b", "a"], 2, {})
    with pytest.raises(FeatureCacheError, match="JSON-serialisable"):
        FeatureCache(tmp_path / "other", ["a"], 2, {"fn": print})


def _images(folder: Path, count: int) -> dict[str, Path]:
    paths = {}
    for index in range(count):
        path = folder / f"img{index}.png"
        Image.new("RGB", (12, 10), (index * 40, 100, 255 - index * 40)).save(path)
        paths[f"img{index}"] = path
    return paths


def _mean_colour(batch):
    assert batch.dtype == np.float32 and batch.shape[1:] == (8, 8, 3)
    return np.asarray(batch).mean(axis=(1, 2))


def test_extract_resumes_and_skips_done_ids(tmp_path):
    paths = _images(tmp_path, 5)
    cache = FeatureCache(tmp_path / "cache", list(paths), 3, {"fn": "mean"})
    seen: list[int] = []

    def interrupted(batch):
        if seen:
            raise KeyboardInterrupt  # the user stops the run after the first batch
        seen.append(len(batch))
        return _mean_colour(batch)

    with pytest.raises(KeyboardInterrupt):
        extract_features(interrupted, paths, cache, batch_size=2, image_size=(8, 8), progress=False)
    resumed = FeatureCache(tmp_path / "cache", list(paths), 3, {"fn": "mean"})
    assert resumed.missing_ids() == ["img2", "img3", "img4"]

    batches: list[int] = []

    def counting(batch):
        batches.append(len(batch))
        return _mean_colour(batch)

    assert extract_features(counting, paths, resumed, batch_size=2, image_size=(8, 8), progress=True) == {}
    assert sum(batches) == 3 and resumed.is_complete()
    expected = np.array([[index * 40, 100, 255 - index * 40] for index in range(5)], np.float32)
    np.testing.assert_allclose(resumed.read(list(paths)), expected, atol=1e-3)
    batches.clear()
    assert extract_features(counting, paths, resumed, batch_size=2, image_size=(8, 8), progress=False) == {}
    assert batches == []


def test_extract_reports_bad_images_and_keeps_going(tmp_path):
    paths = _images(tmp_path, 3)
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    records = [CaptionRecord(image_id, path, "train", ("x",)) for image_id, path in paths.items()]
    records.insert(1, CaptionRecord("broken", tmp_path / "broken.jpg", "train", ("x",)))
    records.append(CaptionRecord("gone", tmp_path / "gone.png", "test", ("x",)))
    cache = FeatureCache(tmp_path / "cache", [r.image_id for r in records], 3, {"fn": "mean"})
    errors = extract_features(_mean_colour, records, cache, batch_size=2, image_size=(8, 8), progress=False)
    assert sorted(errors) == ["broken", "gone"]
    assert "broken.jpg" in errors["broken"] and "gone.png" in errors["gone"]
    assert cache.missing_ids() == ["broken", "gone"]  # a later run retries them
    np.testing.assert_allclose(cache.read(["img2"]), [[80, 100, 175]], atol=1e-3)


def test_extract_with_keras_encoder_and_path_list(tmp_path):
    paths = list(_images(tmp_path, 3).values())
    encoder = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(5)])
    cache = FeatureCache(tmp_path / "cache", [str(p) for p in paths], 5, {"model": "tiny-gap-dense"})
    assert extract_features(lambda b: encoder(vgg_preprocess(b)), paths, cache, 4, (8, 8), progress=False) == {}
    pixels = np.stack([np.asarray(Image.open(path).resize((8, 8), Image.Resampling.BICUBIC), np.float32)
                       for path in paths])
    direct = keras.ops.convert_to_numpy(encoder(vgg_preprocess(pixels)))
    np.testing.assert_allclose(cache.read([str(p) for p in paths]), direct, atol=1e-3)


def test_extract_validates_ids_and_encoder_output(tmp_path):
    paths = _images(tmp_path, 2)
    cache = FeatureCache(tmp_path / "cache", ["img0"], 3, {})
    with pytest.raises(FeatureCacheError, match="not in the cache, e.g. 'img1'"):
        extract_features(_mean_colour, paths, cache, image_size=(8, 8), progress=False)
    with pytest.raises(FeatureCacheError, match=r"encoder_fn returned shape \(1, 2\)"):
        extract_features(lambda b: np.zeros((len(b), 2)), {"img0": paths["img0"]}, cache, 2, (8, 8), progress=False)
    assert json.loads((tmp_path / "cache" / "meta.json").read_text())["image_ids"] == ["img0"]
