"""The synthetic shapes dataset: deterministic, readable by read_coco, captions that match the pixels."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from captioner.data import read_coco
from captioner.data.synthetic import COLOURS, make_synthetic

_OBJECT = r"a (small|large) (red|green|blue|yellow) (circle|square|triangle)"
_RELATION = "(above|below|to the left of|to the right of)"
_CAPTION = re.compile(rf"^(?:there is )?{_OBJECT} (?:is |sits |appears )?{_RELATION} {_OBJECT}$")
_INVERSE = {"below": "above", "to the left of": "to the right of"}


def _canonical(caption: str):
    """(upper-or-right object, relation, other object) so that paraphrases compare equal."""
    match = _CAPTION.match(caption)
    assert match, caption
    first, relation, second = match.groups()[:3], match.group(4), match.groups()[4:]
    if relation in _INVERSE:
        return second, _INVERSE[relation], first
    return first, relation, second


def test_same_seed_same_files_and_other_seed_differs(tmp_path):
    first = make_synthetic(tmp_path / "a", num_images=12, image_size=32, seed=3)
    second = make_synthetic(tmp_path / "b", num_images=12, image_size=32, seed=3)
    other = make_synthetic(tmp_path / "c", num_images=12, image_size=32, seed=4)
    assert first.name == "captions.json"
    assert first.read_bytes() == second.read_bytes()
    for image in sorted((tmp_path / "a").glob("*.png")):
        assert image.read_bytes() == (tmp_path / "b" / image.name).read_bytes()
    assert json.loads(other.read_text())["annotations"] != json.loads(first.read_text())["annotations"]


def test_reads_back_with_splits_and_five_paraphrases(tmp_path):
    json_path = make_synthetic(tmp_path, num_images=50, image_size=48, seed=0)
    records = read_coco(json_path, tmp_path)
    assert len(records) == 50
    assert [sum(r.split == s for r in records) for s in ("train", "val", "test")] == [40, 5, 5]
    for record in records:
        assert len(record.captions) == len(set(record.captions)) == 5
        assert len({_canonical(caption) for caption in record.captions}) == 1
        with Image.open(record.image_path) as image:
            assert image.size == (48, 48) and image.mode == "RGB"
    assert len({_canonical(r.captions[0]) for r in records}) > 25  # captions vary with the images


def test_captions_match_the_drawn_objects(tmp_path):
    json_path = make_synthetic(tmp_path, num_images=80, image_size=64, seed=7)
    data = json.loads(json_path.read_text())
    captions = {}
    for annotation in data["annotations"]:
        captions.setdefault(annotation["image_id"], annotation["caption"])
    relations = set()
    for image in data["images"]:
        pixels = np.asarray(Image.open(tmp_path / image["file_name"]).convert("RGB")).astype(int)
        upper_or_right, relation, other = _canonical(captions[image["id"]])
        relations.add(relation)
        centroids, heights, fills = {}, {}, {}
        for size, colour, shape in (upper_or_right, other):
            mask = np.all(pixels == COLOURS[colour], axis=-1)
            ys, xs = np.nonzero(mask)
            assert ys.size, f"{colour} missing in {image['file_name']}"
            centroids[colour] = (xs.mean(), ys.mean())
            heights[size, colour] = np.ptp(ys) + 1
            fills[shape, colour] = ys.size / ((np.ptp(ys) + 1) * (np.ptp(xs) + 1))
        # The stored object centres are painted in the named colour.
        for obj in image["objects"]:
            x, y = (int(v) for v in obj["center"])
            assert tuple(pixels[y, x]) == COLOURS[obj["colour"]]
        # Spatial relation from pixels alone, with a clear margin.
        (ax, ay), (bx, by) = centroids[upper_or_right[1]], centroids[other[1]]
        if relation == "above":
            assert by - ay > 0.3 * 64 and abs(ax - bx) < by - ay
        else:
            assert ax - bx > 0.3 * 64 and abs(ay - by) < ax - bx
        # Shapes by how much of their bounding box they fill: square ~1, circle ~0.79, triangle ~0.5.
        for (shape, colour), fill in fills.items():
            low, high = {"square": (0.95, 1.01), "circle": (0.7, 0.9), "triangle": (0.4, 0.65)}[shape]
            assert low <= fill <= high, (shape, colour, fill, image["file_name"])
        (key_a, height_a), (key_b, height_b) = heights.items()
        if key_a[0] != key_b[0]:
            large, small = (height_a, height_b) if key_a[0] == "large" else (height_b, height_a)
            assert large > 1.4 * small
    assert relations == {"above", "to the right of"}


def test_reading_order_names_the_upper_or_left_object_first(tmp_path):
    data = json.loads(make_synthetic(tmp_path, num_images=40, image_size=32, seed=2).read_text())
    by_image = {}
    for annotation in data["annotations"]:
        by_image.setdefault(annotation["image_id"], []).append(annotation["caption"])
    for image in data["images"]:
        first_colour = _CAPTION.match(by_image[image["id"]][0]).group(2)
        first = next(obj for obj in image["objects"] if obj["colour"] == first_colour)
        second = next(obj for obj in image["objects"] if obj["colour"] != first_colour)
        axis = 1 if image["relation"] == "above" else 0
        assert image["relation"] in ("above", "to the left of")
        assert first["center"][axis] < second["center"][axis]
        assert all(_CAPTION.match(caption).group(2) == first_colour for caption in by_image[image["id"]])


def test_any_order_also_names_the_other_object_first(tmp_path):
    data = json.loads(make_synthetic(tmp_path, num_images=40, image_size=32, seed=2, word_order="any").read_text())
    captions = [annotation["caption"] for annotation in data["annotations"]]
    assert {_CAPTION.match(caption).group(4) for caption in captions} == {
        "above", "below", "to the left of", "to the right of"}
    for image in data["images"]:
        paraphrases = [a["caption"] for a in data["annotations"] if a["image_id"] == image["id"]]
        assert len({_CAPTION.match(caption).group(2) for caption in paraphrases}) == 2  # both objects lead
        assert len({_canonical(caption) for caption in paraphrases}) == 1


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="num_images"):
        make_synthetic(tmp_path, num_images=0)
    with pytest.raises(ValueError, match="image_size"):
        make_synthetic(tmp_path, num_images=1, image_size=8)
    with pytest.raises(ValueError, match="word_order"):
        make_synthetic(tmp_path, num_images=1, word_order="random")
