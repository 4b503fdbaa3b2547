"""Karpathy split-file reader on small fixture files."""

from __future__ import annotations

import json

import pytest

from captioner.data import CaptionDataError, read_karpathy


def _image(**overrides):
    image = {
        "filepath": "val2014",
        "filename": "COCO_val2014_000000391895.jpg",
        "imgid": 0,
        "cocoid": 391895,
        "split": "restval",
        "sentids": [0, 1],
        "sentences": [
            {"tokens": ["a", "man", "riding"], "raw": "A man riding .", "imgid": 0, "sentid": 0},
            {"tokens": ["a", "person", "on", "a", "bike"], "imgid": 0, "sentid": 1},
        ],
    }
    image.update(overrides)
    return image


def _write(tmp_path, images, touch=True):
    for image in images:
        if touch and isinstance(image.get("filename"), str):
            folder = tmp_path / image.get("filepath", "")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / image["filename"]).write_bytes(b"x")
    path = tmp_path / "dataset_coco.json"
    path.write_text(json.dumps({"images": images, "dataset": "coco"}))
    return path


def test_reads_coco_and_flickr_style_entries(tmp_path):
    flickr_style = {"filename": "1.jpg", "imgid": 3, "split": "train", "sentences": [{"raw": "A dog .", "tokens": []}]}
    records = read_karpathy(_write(tmp_path, [_image(), flickr_style]), tmp_path)
    coco, flickr = records
    assert coco.image_id == "391895" and coco.split == "restval"
    assert coco.image_path == tmp_path / "val2014" / "COCO_val2014_000000391895.jpg"
    assert coco.captions == ("A man riding .", "a person on a bike")  # falls back to tokens without 'raw'
    assert (flickr.image_id, flickr.split, flickr.image_path) == ("3", "train", tmp_path / "1.jpg")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"filename": None}, "must be strings"),
        ({"split": None}, r"image id 391895.*split must be a string"),
        ({"sentences": []}, "image '391895'.*no captions"),
        ({"sentences": [{"raw": "  ", "tokens": []}]}, r"image id 391895\), sentences\[0\]: caption is empty"),
        ({"sentences": [{"sentid": 4}]}, r"sentences\[0\] \(no 'raw'\): missing key 'tokens'"),
        ({"filepath": "../elsewhere"}, "escapes the image root"),
    ],
)
def test_invalid_entries_name_the_image(tmp_path, overrides, message):
    with pytest.raises(CaptionDataError, match=message):
        read_karpathy(_write(tmp_path, [_image(**overrides)], touch=False), tmp_path, check_files=False)


def test_missing_id_duplicate_id_and_missing_file(tmp_path):
    image = _image()
    del image["cocoid"], image["imgid"]
    with pytest.raises(CaptionDataError, match=r"images\[0\] \(no 'cocoid'\): missing key 'imgid'"):
        read_karpathy(_write(tmp_path, [image]), tmp_path)
    with pytest.raises(CaptionDataError, match=r"images\[1\].*duplicate image id '391895'"):
        read_karpathy(_write(tmp_path, [_image(), _image()]), tmp_path)
    path = _write(tmp_path, [_image(filename="gone.jpg")], touch=False)
    with pytest.raises(CaptionDataError, match="gone.jpg does not exist"):
        read_karpathy(path, tmp_path)
    assert read_karpathy(path, tmp_path, only_existing=True) == []
