"""CaptionRecord, the shared checks and the COCO JSON reader, on fixtures and the real Flickr8k subset."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from captioner.data import CaptionDataError, CaptionRecord, read_coco
from captioner.data.records import normalize_split, resolve_image_path


def _write_coco(folder: Path, images, annotations, touch=True) -> Path:
    if touch:
        for image in images:
            if isinstance(image, dict) and isinstance(image.get("file_name"), str) and "/" not in image["file_name"]:
                (folder / image["file_name"]).write_bytes(b"x")
    path = folder / "captions.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations}))
    return path


def _one_image(**overrides):
    return {"id": 7, "file_name": "a.jpg", "split": "train", **overrides}


def test_record_is_frozen_and_validated():
    record = CaptionRecord("1", Path("a.jpg"), "val", ("a dog",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.split = "train"
    with pytest.raises(CaptionDataError, match="'9'.*no captions"):
        CaptionRecord("9", Path("a.jpg"), "val", ())
    with pytest.raises(CaptionDataError, match="'bogus'"):
        CaptionRecord("1", Path("a.jpg"), "bogus", ("x",))


def test_split_aliases_and_path_escapes(tmp_path):
    assert normalize_split("dev", where="x") == "val"
    assert normalize_split("Validation", where="x") == "val"
    for bad in ("../a.jpg", "x/../../a.jpg", "/etc/passwd", "C:\\a.jpg", "..\\a.jpg", ""):
        with pytest.raises(CaptionDataError, match="image 3"):
            resolve_image_path(tmp_path, bad, where="image 3")


def test_reads_valid_file_with_int_ids_and_default_split(tmp_path):
    images = [_one_image(), {"id": "b9", "file_name": "b.jpg"}]
    annotations = [
        {"id": 1, "image_id": 7, "caption": "  A dog .\n"},
        {"id": 2, "image_id": "b9", "caption": "A cat"},
        {"id": 3, "image_id": 7, "caption": "A puppy"},
    ]
    records = read_coco(_write_coco(tmp_path, images, annotations), tmp_path)
    assert [r.image_id for r in records] == ["7", "b9"]
    assert records[0].captions == ("A dog .", "A puppy")
    assert records[0].image_path == tmp_path / "a.jpg"
    assert [r.split for r in records] == ["train", "none"]


@pytest.mark.parametrize(
    ("images", "annotations", "message"),
    [
        ([{"file_name": "a.jpg"}], [], r"images\[0\].*missing key 'id'"),
        ([{"id": 7}], [], "id 7.*missing key 'file_name'"),
        ([_one_image()], [{"id": 5, "caption": "x"}], "annotation id 5.*missing key 'image_id'"),
        ([_one_image()], [{"id": 5, "image_id": 8, "caption": "x"}], "annotation id 5.*unknown image id '8'"),
        ([_one_image()], [{"id": 5, "image_id": 7, "caption": "   "}], "annotation id 5.*empty"),
        ([_one_image()], [{"id": 5, "image_id": 7}], "annotation id 5.*missing key 'caption'"),
        ([_one_image()], [], "image '7'.*no captions"),
        ([_one_image(), _one_image()], [], "duplicate image id '7'"),
        ([_one_image(split="holdout")], [], "unknown split 'holdout'"),
        ([_one_image(file_name="../a.jpg")], [{"image_id": 7, "caption": "x"}], "escapes the image root"),
        ([_one_image(file_name="/tmp/a.jpg")], [{"image_id": 7, "caption": "x"}], "escapes the image root"),
    ],
)
def test_invalid_data_names_the_culprit(tmp_path, images, annotations, message):
    path = _write_coco(tmp_path, images, annotations)
    with pytest.raises(CaptionDataError, match=message):
        read_coco(path, tmp_path)


def test_missing_image_file_raises_unless_disabled_or_dropped(tmp_path):
    path = _write_coco(tmp_path, [_one_image()], [{"image_id": 7, "caption": "x"}], touch=False)
    with pytest.raises(CaptionDataError, match="a.jpg does not exist"):
        read_coco(path, tmp_path)
    assert len(read_coco(path, tmp_path, check_files=False)) == 1
    assert read_coco(path, tmp_path, only_existing=True) == []


def test_missing_or_malformed_json_names_the_file(tmp_path):
    with pytest.raises(CaptionDataError, match="nope.json"):
        read_coco(tmp_path / "nope.json", tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CaptionDataError, match="bad.json.*not valid JSON"):
        read_coco(bad, tmp_path)
    bad.write_text(json.dumps({"images": []}))
    with pytest.raises(CaptionDataError, match="missing key 'annotations'"):
        read_coco(bad, tmp_path)


def test_real_flickr8k_subset(shared_data):
    folder = shared_data / "flickr8k_1k"
    records = read_coco(folder / "captions_flickr8k_1k.json", folder / "images_256px")
    assert len(records) == 1000
    assert all(record.image_path.is_file() and len(record.captions) == 5 for record in records)
    counts = {split: sum(r.split == split for r in records) for split in ("train", "val", "test", "none")}
    assert counts == {"train": 753, "val": 113, "test": 125, "none": 9}
