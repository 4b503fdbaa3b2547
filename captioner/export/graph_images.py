"""Encoded image bytes to the captioner's input, as TensorFlow operations (for the exported SavedModel).

Matches `captioner.data.images.load_image` on ordinary photos: JPEGs decode with the accurate integer DCT,
which is what Pillow uses (the pixels come out identical), transparent PNGs are composited on white, and the
resize is bicubic with antialiasing like Pillow's (within 0.003 of a grey level on Flickr8k photos). Two
differences: EXIF orientation is not applied (the image is read as stored), and 16-bit PNGs are reduced to 8
bits by TensorFlow's rounding rather than Pillow's. An image with more than ``max_pixels`` pixels is refused
from its header, before any pixel is decoded (JPEG and PNG; GIF and BMP after decoding).

Example:
    >>> import io
    >>> from PIL import Image
    >>> buffer = io.BytesIO()
    >>> Image.new("RGB", (40, 30), (200, 10, 10)).save(buffer, format="PNG")
    >>> pixels = decode_and_resize(tf.constant(buffer.getvalue()), size=(16, 16))
    >>> tuple(pixels.shape), [round(float(v)) for v in pixels[0, 0]]
    ((16, 16, 3), [200, 10, 10])
"""

from __future__ import annotations

import tensorflow as tf

from captioner.serving.settings import ServingSettings

DEFAULT_MAX_PIXELS = ServingSettings.max_pixels  # the server's limit, the SavedModel's too

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _big_endian_uint32(data: tf.Tensor, offset: int) -> tf.Tensor:
    digits = tf.cast(tf.io.decode_raw(tf.strings.substr(data, offset, 4), tf.uint8), tf.int64)
    return ((digits[0] * 256 + digits[1]) * 256 + digits[2]) * 256 + digits[3]


def header_pixels(data: tf.Tensor) -> tf.Tensor:
    """Width x height of a JPEG or PNG from its header alone (int64); -1 for other formats.

    Example:
        >>> import io
        >>> from PIL import Image
        >>> buffer = io.BytesIO()
        >>> Image.new("L", (7, 3)).save(buffer, format="PNG")
        >>> int(header_pixels(tf.constant(buffer.getvalue())))
        21
    """
    def jpeg():
        shape = tf.image.extract_jpeg_shape(data, output_type=tf.int64)
        return shape[0] * shape[1]

    def png_or_other():
        is_png = tf.equal(tf.strings.substr(data, 0, 8), _PNG_SIGNATURE) & (tf.strings.length(data) >= 24)
        return tf.cond(is_png, lambda: _big_endian_uint32(data, 16) * _big_endian_uint32(data, 20),
                       lambda: tf.constant(-1, tf.int64))

    return tf.cond(tf.io.is_jpeg(data), jpeg, png_or_other)


def decode_rgb(data: tf.Tensor, max_pixels: int = DEFAULT_MAX_PIXELS) -> tf.Tensor:
    """``(H, W, 3)`` float32 RGB in 0..255 from encoded JPEG/PNG (or GIF/BMP) bytes.

    Raises ``tf.errors.InvalidArgumentError`` for bytes that are not an image, and for images over
    ``max_pixels`` (checked from the header before decoding JPEG and PNG).
    """
    tf.debugging.assert_less_equal(header_pixels(data), tf.constant(max_pixels, tf.int64),
                                   message=f"the image has more than {max_pixels} pixels")

    def jpeg():
        return tf.cast(tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE"), tf.float32)

    def png():
        rgba = tf.cast(tf.io.decode_png(data, channels=4), tf.float32)
        alpha = rgba[..., 3:] / 255.0
        # On white, rounded to whole grey levels as Pillow's alpha_composite + RGB conversion gives them.
        return tf.round(rgba[..., :3] * alpha + 255.0 * (1.0 - alpha))

    def other():
        image = tf.cast(tf.io.decode_image(data, channels=3, expand_animations=False), tf.float32)
        pixels = tf.cast(tf.shape(image)[0] * tf.shape(image)[1], tf.int64)
        tf.debugging.assert_less_equal(pixels, tf.constant(max_pixels, tf.int64),
                                       message=f"the image has more than {max_pixels} pixels")
        return image

    is_png = tf.equal(tf.strings.substr(data, 0, 8), _PNG_SIGNATURE)
    image = tf.cond(tf.io.is_jpeg(data), jpeg, lambda: tf.cond(is_png, png, other))
    image.set_shape([None, None, 3])
    return image


def decode_and_resize(data: tf.Tensor, size: tuple[int, int], max_pixels: int = DEFAULT_MAX_PIXELS) -> tf.Tensor:
    """``(size[0], size[1], 3)`` float32 RGB in 0..255: decoded, then resized bicubically with antialiasing."""
    image = decode_rgb(data, max_pixels)
    height, width = int(size[0]), int(size[1])
    same_size = tf.reduce_all(tf.equal(tf.shape(image)[:2], [height, width]))

    def resized():
        # Bicubic overshoots at sharp edges; clipped back into range as load_image does.
        return tf.clip_by_value(
            tf.image.resize(image, (height, width), method="bicubic", antialias=True), 0.0, 255.0)

    image = tf.cond(same_size, lambda: image, resized)
    image.set_shape([height, width, 3])
    return image
