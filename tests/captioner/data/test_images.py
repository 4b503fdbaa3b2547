"""load_image / load_images / vgg_preprocess on images created with Pillow for every case."""

from __future__ import annotations

import io

import keras
import numpy as np
import pytest
from PIL import Image, ImageFile

from captioner.data.images import ImageLoadError, load_image, load_images
from captioner.encoder.preprocessing import vgg_preprocess

RED, BLUE = (255, 0, 0), (0, 0, 255)


def _two_halves(width=40, height=20) -> Image.Image:
    """Top half red, bottom half blue."""
    image = Image.new("RGB", (width, height), RED)
    image.paste(BLUE, (0, height // 2, width, height))
    return image


def _palette_image(colour) -> Image.Image:
    image = Image.new("P", (8, 8), 1)
    image.putpalette([0, 0, 0, *colour] + [0, 0, 0] * 254)
    return image


def _close(pixel, colour, tolerance=12):
    return np.all(np.abs(np.asarray(pixel) - np.asarray(colour, dtype=np.float32)) <= tolerance)


def test_path_pil_and_array_give_same_float32_rgb(tmp_path):
    image = _two_halves()
    image.save(tmp_path / "a.png")
    from_path = load_image(tmp_path / "a.png", size=(10, 30))
    assert from_path.shape == (10, 30, 3) and from_path.dtype == np.float32
    np.testing.assert_allclose(load_image(str(tmp_path / "a.png"), size=(10, 30)), from_path)
    np.testing.assert_allclose(load_image(image, size=(10, 30)), from_path)
    np.testing.assert_allclose(load_image(np.asarray(image), size=(10, 30)), from_path)
    np.testing.assert_allclose(load_image(np.asarray(image, np.float64), size=(10, 30)), from_path, atol=1e-3)
    assert _close(from_path[0, 0], RED) and _close(from_path[-1, -1], BLUE)
    assert from_path.min() >= 0 and from_path.max() <= 255


def test_exif_orientation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: display needs a 90 degree clockwise turn
    _two_halves(40, 20).save(tmp_path / "rotated.jpg", exif=exif.tobytes(), quality=95)
    upright = load_image(tmp_path / "rotated.jpg", size=(40, 20))
    # Turning clockwise moves the stored top (red) to the right and the bottom (blue) to the left.
    assert _close(upright[20, 2], BLUE) and _close(upright[20, -3], RED)
    plain = load_image(_two_halves(40, 20), size=(40, 20))
    assert _close(plain[2, 10], RED) and _close(plain[-3, 10], BLUE)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: Image.new("L", (8, 8), 100), (100, 100, 100)),
        (lambda: Image.new("1", (8, 8), 1), (255, 255, 255)),
        (lambda: Image.new("RGBA", (8, 8), (10, 20, 30, 0)), (255, 255, 255)),
        (lambda: Image.new("RGBA", (8, 8), (10, 20, 30, 255)), (10, 20, 30)),
        (lambda: Image.new("LA", (8, 8), (0, 128)), (127, 127, 127)),
        (lambda: _palette_image((200, 50, 10)), (200, 50, 10)),
        (lambda: Image.new("CMYK", (8, 8), (0, 255, 255, 0)), (255, 0, 0)),
        (lambda: Image.fromarray(np.full((8, 8), 65535, np.uint16)), (255, 255, 255)),
        (lambda: Image.fromarray(np.full((8, 8), 32896, np.uint16)), (128, 128, 128)),
        (lambda: Image.fromarray(np.full((8, 8), 51400, np.int32)), (200, 200, 200)),
    ],
    ids=["L", "1", "RGBA-clear", "RGBA-opaque", "LA-half", "P", "CMYK", "I16-max", "I16-mid", "I32"],
)
def test_modes_convert_to_rgb(tmp_path, make, expected):
    image = make()
    array = load_image(image, size=(4, 4))
    assert _close(array[2, 2], expected, tolerance=2), (image.mode, array[2, 2])
    # PNG holds neither CMYK nor 32-bit integers; TIFF does.
    name = "x.tiff" if image.mode in ("CMYK", "I") else "x.png"
    image.save(tmp_path / name)
    np.testing.assert_allclose(load_image(tmp_path / name, size=(4, 4)), array, atol=2)


def test_cmyk_jpeg_and_transparent_palette_png(tmp_path):
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")
    assert _close(load_image(tmp_path / "cmyk.jpg", size=(4, 4))[1, 1], RED, tolerance=20)
    palette = Image.new("P", (8, 8), 0)
    palette.putpalette([0, 0, 0] * 256)
    palette.save(tmp_path / "p.png", transparency=0)
    assert _close(load_image(tmp_path / "p.png", size=(4, 4))[1, 1], (255, 255, 255))


def test_animated_gif_gives_first_frame_and_zero_size_pil_image_raises(tmp_path):
    frames = [Image.new("RGB", (8, 8), RED), Image.new("RGB", (8, 8), BLUE)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    assert _close(load_image(tmp_path / "anim.gif", size=(4, 4))[2, 2], RED)
    with pytest.raises(ImageLoadError, match="no pixels"):
        load_image(Image.new("RGB", (0, 5)))


def test_pixel_limit_is_checked_before_decoding(tmp_path, monkeypatch):
    Image.new("L", (2000, 1000)).save(tmp_path / "big.png")

    def must_not_decode(self, *args, **kwargs):
        raise AssertionError("image decoded despite the pixel limit")

    monkeypatch.setattr(ImageFile.ImageFile, "load", must_not_decode)
    with pytest.raises(ImageLoadError, match=r"big.png.*2000x1000 = 2000000 pixels.*1000000"):
        load_image(tmp_path / "big.png", max_pixels=1_000_000)
    monkeypatch.undo()
    assert load_image(tmp_path / "big.png", size=(5, 10), max_pixels=2_000_000).shape == (5, 10, 3)
    with pytest.raises(ImageLoadError, match="limit"):
        load_image(Image.new("RGB", (100, 100)), max_pixels=9_999)


def _jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jpg", b"", "empty.jpg.*empty"),
        ("text.jpg", b"this is not an image\n" * 10, "text.jpg.*cannot be decoded"),
        ("noise.png", bytes(range(256)) * 4, "noise.png.*cannot be decoded"),
        ("cut.jpg", _jpeg_bytes()[:600], "(?i)cut.jpg.*cannot be decoded.*truncated"),
        ("badheader.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200, "badheader.jpg.*cannot be decoded"),
    ],
)
def test_bad_files_raise_naming_the_file(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ImageLoadError, match=message):
        load_image(tmp_path / name)


def test_missing_file_and_bad_arrays(tmp_path):
    with pytest.raises(ImageLoadError, match="gone.jpg.*does not exist"):
        load_image(tmp_path / "gone.jpg")
    bad_arrays = [
        np.zeros((4, 4, 4), np.uint8),
        np.zeros((4, 4, 3, 1), np.uint8),
        np.zeros((4,), np.uint8),
        np.zeros((0, 4, 3), np.uint8),
        np.zeros((4, 4, 3), np.int64),
        np.zeros((4, 4, 3), bool),
        np.full((4, 4, 3), 256.0),
        np.full((4, 4, 3), -1.0),
        np.full((4, 4, 3), np.nan),
    ]
    for array in bad_arrays:
        with pytest.raises(ImageLoadError, match=r"array of shape"):
            load_image(array)
    with pytest.raises(ImageLoadError, match="expected a path"):
        load_image(42)


def test_resize_keeps_regions_and_constant_images():
    quadrants = np.zeros((64, 64, 3), np.uint8)
    quadrants[:32, :32] = RED
    quadrants[32:, 32:] = BLUE
    small = load_image(quadrants, size=(8, 8))
    assert _close(small[0, 0], RED) and _close(small[7, 7], BLUE) and _close(small[0, 7], (0, 0, 0))
    np.testing.assert_allclose(load_image(np.full((30, 50), 77, np.uint8), size=(224, 224)), 77.0, atol=1e-3)


def test_load_images_keeps_good_rows_and_reports_bad_ones(tmp_path):
    _two_halves().save(tmp_path / "good.png")
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    sources = [tmp_path / "good.png", tmp_path / "bad.jpg", np.zeros((3, 3), np.uint8), tmp_path / "missing.png"]
    batch, errors = load_images(sources, size=(6, 6))
    assert batch.shape == (4, 6, 6, 3) and batch.dtype == np.float32
    assert sorted(errors) == [1, 3]
    assert "bad.jpg" in errors[1] and "missing.png" in errors[3]
    np.testing.assert_allclose(batch[0], load_image(tmp_path / "good.png", size=(6, 6)))
    assert not batch[1].any() and not batch[3].any()


def test_vgg_preprocess_matches_keras_applications():
    batch = np.random.default_rng(0).uniform(0, 255, (2, 5, 5, 3)).astype(np.float32)
    expected = keras.applications.vgg16.preprocess_input(batch.copy())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(vgg_preprocess(batch)), expected, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(vgg_preprocess(keras.ops.convert_to_tensor(batch))), expected, atol=1e-4
    )
