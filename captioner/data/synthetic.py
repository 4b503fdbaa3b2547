"""A tiny synthetic captioning dataset: two coloured shapes per image, captions fully determined by the image.

Each image shows two objects that differ in colour, placed so that their spatial relation (above, to the left
of) is unambiguous: one object sits in one half of the canvas and the other in the opposite half. Every image
has five captions that are exact paraphrases drawn from a small regular grammar. By default they name the upper
(or left) object first, as one reads a picture: "a large red circle above a small blue square", "there is a
large red circle above a small blue square", ... With ``word_order="any"`` they also name the other object
first with the inverse relation ("a small blue square below a large red circle"); that variant is much harder
to learn, because after naming an object the decoder must work out, from the words it has emitted and the
image together, which of the two objects it named before it can pick the relation. The images are written as
PNG (lossless, so colours stay exact) and the captions as COCO JSON readable by `read_coco`; each image entry
also carries its ``objects`` (colour, shape, size, centre) for tests and debugging.

Learnability, measured with ``captioner demo`` (2,000 images of 64 px, small VGG-style CNN learned from
scratch, GRU decoder with first-step injection, 2 CPU cores): corpus BLEU-4 0.999 on the 200 test images in
reading order after 12 epochs, 0.84 with ``word_order="any"`` after 14.

Example:
    >>> import tempfile
    >>> from captioner.data.coco import read_coco
    >>> folder = tempfile.mkdtemp()
    >>> json_path = make_synthetic(folder, num_images=10, image_size=32, seed=1)
    >>> records = read_coco(json_path, folder)
    >>> len(records), len(records[0].captions)
    (10, 5)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from textmodels.atomic_files import write_text_atomically
from textmodels.errors import ConfigurationError

COLOURS = {"red": (220, 30, 30), "green": (30, 170, 50), "blue": (40, 60, 220), "yellow": (240, 210, 20)}
SHAPES = ("circle", "square", "triangle")
# Side of the bounding box as a fraction of the image side; both fit in half the canvas with room to move.
SIZES = {"small": 0.26, "large": 0.42}
BACKGROUND = (245, 245, 245)
# relation -> (axis, sign): the subject's offset from the canvas centre along that axis (y grows downwards).
RELATIONS = {"above": (1, -1), "below": (1, 1), "to the left of": (0, -1), "to the right of": (0, 1)}
# Relations whose subject is the lower or right object: "reading" order names the other object first instead.
READING_INVERTED = ("below", "to the right of")
INVERSE = {"above": "below", "below": "above", "to the left of": "to the right of", "to the right of": "to the left of"}
SPLIT_FRACTIONS = (("train", 0.8), ("val", 0.1), ("test", 0.1))
CAPTIONS_FILE = "captions.json"
WORD_ORDERS = ("reading", "any")


def _check_word_order(word_order: str) -> None:
    if word_order not in WORD_ORDERS:
        raise ConfigurationError(f"word_order must be one of {WORD_ORDERS}, got {word_order!r}")


def _phrase(obj: dict) -> str:
    return f"a {obj['size']} {obj['colour']} {obj['shape']}"


def captions_for(subject: dict, relation: str, other: dict, word_order: str = "reading") -> tuple[str, ...]:
    """The five paraphrases saying that ``subject`` is ``relation`` ``other``.

    ``word_order="reading"`` keeps the subject first in all five (`make_synthetic` makes it the upper or left
    object); ``"any"`` also names the other object first, with the inverse relation.

    Example:
        >>> big_red = {"size": "large", "colour": "red", "shape": "circle"}
        >>> small_blue = {"size": "small", "colour": "blue", "shape": "square"}
        >>> captions_for(big_red, "above", small_blue)[1]
        'a large red circle is above a small blue square'
        >>> captions_for(big_red, "above", small_blue, word_order="any")[1]
        'a small blue square below a large red circle'
    """
    _check_word_order(word_order)
    first, second, inverse = _phrase(subject), _phrase(other), INVERSE[relation]
    if word_order == "reading":
        return (
            f"{first} {relation} {second}",
            f"{first} is {relation} {second}",
            f"there is {first} {relation} {second}",
            f"{first} sits {relation} {second}",
            f"{first} appears {relation} {second}",
        )
    return (
        f"{first} {relation} {second}",
        f"{second} {inverse} {first}",
        f"{first} is {relation} {second}",
        f"{second} is {inverse} {first}",
        f"there is {first} {relation} {second}",
    )


def _draw(draw: ImageDraw.ImageDraw, obj: dict, side: float) -> None:
    x, y = obj["center"]
    half = side / 2
    box = (x - half, y - half, x + half, y + half)
    fill = COLOURS[obj["colour"]]
    if obj["shape"] == "circle":
        draw.ellipse(box, fill=fill)
    elif obj["shape"] == "square":
        draw.rectangle(box, fill=fill)
    else:
        # Upward triangle filling the box; its box centre lies inside it, at half its width.
        draw.polygon([(x, y - half), (x + half, y + half), (x - half, y + half)], fill=fill)


def _sample_scene(rng: np.random.Generator, image_size: int) -> tuple[dict, str, dict]:
    colour_a, colour_b = rng.choice(list(COLOURS), size=2, replace=False)
    subject = {"colour": str(colour_a), "shape": str(rng.choice(SHAPES)), "size": str(rng.choice(list(SIZES)))}
    other = {"colour": str(colour_b), "shape": str(rng.choice(SHAPES)), "size": str(rng.choice(list(SIZES)))}
    relation = str(rng.choice(list(RELATIONS)))
    axis, sign = RELATIONS[relation]
    # Along the relation axis the objects sit at 1/4 and 3/4 of the canvas (small jitter, never crossing the
    # middle); across it they stay near the centre line, so the relation is the only reading.
    jitter = 0.04 * image_size
    for obj, direction in ((subject, sign), (other, -sign)):
        along = image_size / 2 + direction * image_size / 4 + rng.uniform(-jitter, jitter)
        across = image_size / 2 + rng.uniform(-2 * jitter, 2 * jitter)
        centre = [across, along] if axis == 1 else [along, across]
        obj["center"] = [round(float(value), 1) for value in centre]
    return subject, relation, other


def make_synthetic(
    out_dir: str | Path,
    num_images: int = 2000,
    image_size: int = 64,
    seed: int = 0,
    word_order: str = "reading",
) -> Path:
    """Write ``num_images`` PNGs and ``captions.json`` (splits 80/10/10) into ``out_dir``; return the JSON path.

    The same arguments always produce the same files.

    Example:
        >>> import json, tempfile
        >>> path = make_synthetic(tempfile.mkdtemp(), num_images=4, image_size=32)
        >>> [image["split"] for image in json.loads(path.read_text())["images"]][:1]
        ['train']
    """
    _check_word_order(word_order)
    if num_images < 1:
        raise ConfigurationError(f"num_images must be at least 1, got {num_images}")
    if image_size < 16:
        raise ConfigurationError(
            f"image_size must be at least 16 pixels so small shapes stay visible, got {image_size}"
        )
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    boundaries, total = [], 0.0
    for split, fraction in SPLIT_FRACTIONS:
        total += fraction
        boundaries.append((split, round(total * num_images)))

    images, annotations = [], []
    for index in range(num_images):
        subject, relation, other = _sample_scene(rng, image_size)
        if word_order == "reading" and relation in READING_INVERTED:
            subject, relation, other = other, INVERSE[relation], subject
        canvas = Image.new("RGB", (image_size, image_size), BACKGROUND)
        draw = ImageDraw.Draw(canvas)
        for obj in (subject, other):
            _draw(draw, obj, SIZES[obj["size"]] * image_size)
        file_name = f"synthetic_{index:05d}.png"
        canvas.save(folder / file_name, format="PNG")
        split = next(name for name, end in boundaries if index < end)
        image_id = index + 1
        images.append({"id": image_id, "file_name": file_name, "split": split, "width": image_size,
                       "height": image_size, "objects": [subject, other], "relation": relation})
        for caption in captions_for(subject, relation, other, word_order):
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "caption": caption})

    json_path = folder / CAPTIONS_FILE
    info = {"description": f"synthetic shapes, {num_images} images of {image_size} px, seed {seed}"}
    write_text_atomically(json_path, json.dumps({"info": info, "images": images, "annotations": annotations}, indent=1))
    return json_path
