"""Flickr8k token-file and CSV readers: format errors, split lists, only_existing and the real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from captioner.data import (
    CaptionDataError,
    flickr8k_split_files,
    read_coco,
    read_flickr8k_csv,
    read_flickr8k_token_file,
)


@pytest.fixture
def flickr(tmp_path) -> Path:
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "train.txt").write_text("a.jpg\n\n")
    (tmp_path / "dev.txt").write_text("b.jpg\n")
    return tmp_path


def _splits(folder: Path) -> dict[str, Path]:
    return {"train": folder / "train.txt", "dev": folder / "dev.txt"}


def test_token_file_with_splits(flickr):
    (flickr / "tokens.txt").write_text(
        "a.jpg#0\tA dog .\nb.jpg#0\tA cat .\na.jpg#1\tA puppy .\nc.jpg#0\tA bird .\n"
    )
    records = read_flickr8k_token_file(flickr / "tokens.txt", flickr, split_files=_splits(flickr))
    assert [(r.image_id, r.split, r.captions) for r in records] == [
        ("a.jpg", "train", ("A dog .", "A puppy .")),
        ("b.jpg", "val", ("A cat .",)),
        ("c.jpg", "none", ("A bird .",)),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a.jpg#0 A dog .\n", r"tokens.txt:1: expected"),
        ("a.jpg\tA dog .\n", r"tokens.txt:1: expected"),
        ("a.jpg#0\tA dog .\nb.jpg#x\tA cat .\n", r"tokens.txt:2: expected"),
        ("a.jpg#0\t   \n", r"tokens.txt:1 \(image 'a.jpg'\): caption is empty"),
        ("a.jpg#0\tA dog . a.jpg#1\tA cat .\n", r"tokens.txt:1 \(image 'a.jpg'\): line holds more than one caption"),
        ("../a.jpg#0\tA dog .\n", "escapes the image root"),
        ("d.jpg#0\tA dog .\n", "d.jpg does not exist"),
    ],
)
def test_token_file_errors_name_line_or_image(flickr, content, message):
    (flickr / "tokens.txt").write_text(content)
    with pytest.raises(CaptionDataError, match=message):
        read_flickr8k_token_file(flickr / "tokens.txt", flickr)


def test_only_existing_drops_missing_images_and_their_defects(flickr):
    (flickr / "tokens.txt").write_text("a.jpg#0\tA dog .\nd.jpg#0\tA x . d.jpg#1\tA y .\ne.jpg#0\t \n")
    records = read_flickr8k_token_file(flickr / "tokens.txt", flickr, only_existing=True)
    assert [r.image_id for r in records] == ["a.jpg"]


def test_image_listed_under_two_splits_raises(flickr):
    (flickr / "dev.txt").write_text("a.jpg\n")
    (flickr / "tokens.txt").write_text("a.jpg#0\tA dog .\n")
    with pytest.raises(CaptionDataError, match="dev.txt:1: 'a.jpg' is already listed under split 'train'"):
        read_flickr8k_token_file(flickr / "tokens.txt", flickr, split_files=_splits(flickr))


def test_csv_reader_handles_quoted_commas_and_splits(flickr):
    (flickr / "c.csv").write_text('image,caption\na.jpg,"A dog , wet ."\nb.jpg,A cat .\n')
    records = read_flickr8k_csv(flickr / "c.csv", flickr, splits=_splits(flickr))
    assert [(r.image_id, r.split, r.captions) for r in records] == [
        ("a.jpg", "train", ("A dog , wet .",)),
        ("b.jpg", "val", ("A cat .",)),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("picture,caption\na.jpg,x\n", r"c.csv:1: header .*lacks column\(s\) \['image'\]"),
        ("image,caption\na.jpg,x,y\n", r"c.csv:2: expected 2 fields, got 3"),
        ("image,caption\n,x\n", r"c.csv:2: empty image file name"),
        ("image,caption\na.jpg,\n", r"c.csv:2 \(image 'a.jpg'\): caption is empty"),
    ],
)
def test_csv_errors_name_the_line(flickr, content, message):
    (flickr / "c.csv").write_text(content)
    with pytest.raises(CaptionDataError, match=message):
        read_flickr8k_csv(flickr / "c.csv", flickr)


def test_real_token_file_csv_and_json_agree(shared_data):
    folder = shared_data / "flickr8k_1k"
    images = folder / "images_256px"
    splits = flickr8k_split_files(folder / "Flickr8k_text")
    with pytest.raises(CaptionDataError, match="does not exist"):
        read_flickr8k_token_file(folder / "Flickr8k_text" / "Flickr8k.token.txt", images, split_files=splits)
    from_tokens = read_flickr8k_token_file(
        folder / "Flickr8k_text" / "Flickr8k.token.txt", images, split_files=splits, only_existing=True
    )
    from_csv = read_flickr8k_csv(folder / "captions_1k.csv", images, splits=splits)
    from_json = read_coco(folder / "captions_flickr8k_1k.json", images)

    def by_name(records):
        return {r.image_path.name: (r.split, r.captions) for r in records}

    assert len(from_tokens) == 1000
    assert by_name(from_tokens) == by_name(from_csv) == by_name(from_json)
