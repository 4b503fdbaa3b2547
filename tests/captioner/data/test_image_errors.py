"""Bad images, refused one by one naming the file, while the others of a batch or a folder are still captioned
(the cases and their runner: `bad_input`)."""

from __future__ import annotations

import numpy as np
import pytest
from bad_input import cases, dangling_link, float_tiff, folder_named, run_case, symlink_loop, truncated_copy
from PIL import Image

from captioner.data.images import ImageLoadError

pytestmark = pytest.mark.all_backends


def caption_one(make_source):
    def act(w):
        return w.loaded_captioner.caption(make_source(w))

    return act


CASES = [
    (
        "NaN float TIFF",
        caption_one(lambda w: float_tiff(w, "nan.tif", float("nan"))),
        (ImageLoadError, r"nan\.tif.*non-finite pixel values"),
    ),
    (
        "infinite float TIFF",
        caption_one(lambda w: float_tiff(w, "inf.tif", float("inf"))),
        (ImageLoadError, r"inf\.tif.*non-finite pixel values"),
    ),
    (
        "folder named x.jpg",
        caption_one(lambda w: folder_named(w, "x.jpg")),
        (ImageLoadError, r"x\.jpg' is a folder, not an image"),
    ),
    (
        "symbolic-link loop as image",
        caption_one(lambda w: symlink_loop(w, "loop.jpg")),
        (ImageLoadError, r"loop\.jpg' cannot be opened \(Too many levels of symbolic links\)"),
    ),
    (
        "dangling link as image",
        caption_one(lambda w: dangling_link(w, "gone.jpg")),
        (ImageLoadError, r"gone\.jpg' is a symbolic link to a missing file"),
    ),
    (
        "empty image file",
        caption_one(lambda w: w.file("empty.jpg")),
        (ImageLoadError, r"empty\.jpg' is empty \(0 bytes\)"),
    ),
    (
        "text renamed .jpg",
        caption_one(lambda w: w.file("notes.jpg", "shopping list\n" * 20)),
        (ImageLoadError, r"notes\.jpg' cannot be decoded"),
    ),
    (
        "truncated PNG",
        caption_one(lambda w: truncated_copy(w, "photo", "cut.png")),
        (ImageLoadError, r"cut\.png' cannot be decoded"),
    ),
    ("missing image", caption_one(lambda w: w.folder / "absent.jpg"), (ImageLoadError, r"absent\.jpg' does not exist")),
    (
        "array of 4 channels",
        caption_one(lambda w: np.zeros((8, 8, 4), np.uint8)),
        (ImageLoadError, r"array of shape \(8, 8, 4\).*expected shape"),
    ),
    (
        "float array with NaN",
        caption_one(lambda w: np.full((8, 8, 3), np.nan, np.float32)),
        (ImageLoadError, r"must be finite"),
    ),
    (
        "a dict as image",
        caption_one(lambda w: {"pixels": 1}),
        (ImageLoadError, r"expected a path, a PIL image or a NumPy array"),
    ),
]


@cases(CASES)
def test_bad_input_gets_a_specific_error(name, action, expected, world, capsys):
    run_case(world, capsys, action, expected)


def test_a_bad_photo_in_a_batch_is_named_and_the_others_are_captioned(world):
    bad = float_tiff(world, "batch_nan.tif", float("nan"))
    results = world.loaded_captioner.caption([world.photo, bad, world.photo], beam_size=2)
    assert isinstance(results[0], str) and isinstance(results[2], str)
    assert not results[1] and results[1].index == 1 and "batch_nan.tif" in results[1].error


def test_a_numerical_failure_inside_a_batch_is_traced_to_its_image(world, monkeypatch):
    """A failure the loader cannot see (here: the decoder raising on one image's features) is retried image by
    image: the image that causes it is reported, the others captioned."""
    captioner = world.loaded_captioner
    real_generate = captioner.model.generate

    def generate(features, **settings):
        if np.any(np.asarray(features)[:, 0] == 0):  # the black photo's features, made to fail
            raise FloatingPointError("beam search met NaN scores")
        return real_generate(features, **settings)

    black = np.zeros((16, 16, 3), np.uint8)
    real_encode = captioner.model.encode_images
    monkeypatch.setattr(
        captioner.model,
        "encode_images",
        lambda pixels: np.where(
            np.asarray(pixels).max(axis=(1, 2, 3), keepdims=True)[:, :, 0, 0] == 0,
            0.0,
            np.asarray(real_encode(pixels)) + 1e3,
        ),
    )
    monkeypatch.setattr(captioner.model, "generate", generate)
    results = captioner.caption([world.photo, black, world.photo], beam_size=2)
    assert isinstance(results[0], str) and isinstance(results[2], str)
    assert not results[1] and "FloatingPointError: beam search met NaN scores" in results[1].error
    with pytest.raises(FloatingPointError):  # every image failing alike is the model's fault: raised
        captioner.caption([black, black], beam_size=2)


def test_caption_folder_names_the_bad_photo_and_captions_the_others(world, capsys):
    from captioner.cli import main

    folder = world.folder / "photos"
    folder.mkdir(exist_ok=True)
    Image.new("RGB", (20, 20), (10, 200, 10)).save(folder / "green.png")
    Image.new("RGB", (20, 20), (10, 10, 200)).save(folder / "blue.png")
    float_tiff(world, "photos/nan.tif", float("nan"))
    assert main(["caption", str(world.captioner), str(folder)]) == 1
    captured = capsys.readouterr()
    assert {line.split("\t")[0] for line in captured.out.splitlines()} >= {"green.png", "blue.png"}
    assert "nan.tif" in captured.err and "non-finite" in captured.err
