"""tfds coco_captions loader, offline: tfds.testing.mock_data serves fake examples, the network check is faked."""

from __future__ import annotations

import numpy as np
import pytest

tfds = pytest.importorskip("tensorflow_datasets")

from captioner.data import tfds_coco  # noqa: E402
from captioner.data.images import load_image  # noqa: E402
from textmodels.data import network  # noqa: E402


@pytest.fixture
def network_checks(monkeypatch):
    calls = []
    monkeypatch.setattr(tfds_coco, "require_network", lambda host, **kwargs: calls.append((host, kwargs)))
    return calls


def _mock_examples(data_dir, count):
    with tfds.testing.mock_data(num_examples=count):
        return list(tfds.load("coco_captions", split="val", data_dir=str(data_dir)).as_numpy_iterator())


def test_writes_jpegs_and_records_from_mocked_dataset(tmp_path, network_checks):
    with tfds.testing.mock_data(num_examples=3):
        records = tfds_coco.load_tfds_coco_captions(
            "val[:3]", data_dir=tmp_path / "tfds", image_dir=tmp_path / "jpeg", progress=False
        )
    assert [host for host, _ in network_checks] == ["storage.googleapis.com"]
    assert "read_coco" in network_checks[0][1]["alternative"]

    examples = _mock_examples(tmp_path / "tfds", 3)
    assert len(records) == len(examples) == 3
    for record, example in zip(records, examples):
        assert record.split == "val"
        assert record.image_id == str(int(example["image/id"]))
        assert record.captions == tuple(text.decode().strip() for text in example["captions"]["text"])
        assert record.image_path.parent == tmp_path / "jpeg"
        height, width = example["image"].shape[:2]
        decoded = load_image(record.image_path, size=(height, width))
        # JPEG is lossy and mock images are pure noise; the mean must still match closely.
        assert abs(decoded.mean() - example["image"].mean()) < 8


def test_second_call_reuses_written_images(tmp_path, network_checks):
    kwargs = dict(data_dir=tmp_path / "tfds", image_dir=tmp_path / "jpeg", progress=False)
    with tfds.testing.mock_data(num_examples=2):
        first = tfds_coco.load_tfds_coco_captions("test", **kwargs)
        stamps = [record.image_path.stat().st_mtime_ns for record in first]
        second = tfds_coco.load_tfds_coco_captions("test", **kwargs)
    assert second == first
    assert [record.image_path.stat().st_mtime_ns for record in second] == stamps


def test_prepared_dataset_skips_network_check(tmp_path, monkeypatch):
    monkeypatch.setattr(tfds.core.DatasetBuilder, "is_prepared", lambda self: True)
    monkeypatch.setattr(tfds_coco, "require_network", lambda *a, **k: pytest.fail("network check on prepared data"))
    with tfds.testing.mock_data(num_examples=1):
        records = tfds_coco.load_tfds_coco_captions("train", data_dir=tmp_path, progress=False)
    assert records[0].image_path.parent == tmp_path / "coco_captions_jpeg" / "train"


def test_offline_without_prepared_data_fails_fast_naming_alternative(tmp_path, monkeypatch):
    monkeypatch.setattr(network, "can_reach", lambda *args, **kwargs: False)
    with pytest.raises(network.OfflineError, match="coco_captions.*read_coco"):
        tfds_coco.load_tfds_coco_captions("val", data_dir=tmp_path, progress=False)
    assert not any(tmp_path.rglob("*.jpg"))


def test_unknown_split_is_rejected_before_loading(tmp_path, network_checks):
    with pytest.raises(ValueError, match="unknown split 'validate'"):
        tfds_coco.load_tfds_coco_captions("validate[:5]", data_dir=tmp_path, progress=False)
    assert network_checks == []
    np.testing.assert_equal(sorted(p.name for p in tmp_path.iterdir()), [])
