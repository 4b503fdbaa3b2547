"""Encoded image bytes to the captioner's input, as TensorFlow operations (for the exported SavedModel).

Matches `captioner.data.images.load_image`, so that the export captions a photo as the Python API does:

- JPEGs decode with the accurate integer DCT, which is what Pillow uses (the pixels come out identical), a
  large one at 1/2, 1/4 or 1/8 scale as `captioner.data.images.draft_for_size` decodes it; CMYK and grayscale
  JPEGs convert to RGB as Pillow converts them.
- EXIF orientation (tags 1-8, from a JPEG's APP1 ``Exif`` segment or a PNG's ``eXIf`` chunk) turns the image
  upright before anything else, as ``PIL.ImageOps.exif_transpose`` does: phone photos are stored sideways
  with a tag saying so. Read by walking the file's segments in the graph (`exif_orientation`).
- 16-bit PNGs as Pillow reads them: grayscale keeps its precision (value / 257), colour keeps the high byte.
- Transparent PNGs are composited on white; the resize is bicubic with antialiasing like Pillow's (within
  0.003 of a grey level on Flickr8k photos).

An image with more than ``max_pixels`` pixels is refused from its header, before any pixel is decoded (JPEG
and PNG; GIF, BMP and WebP after decoding). GIF, BMP and WebP are read as stored (a WebP's EXIF orientation is
not applied; GIFs have none), the first frame of an animation only.

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
_ORIENTATION_TAG = 0x0112
# IFD0 entries read (tags are sorted, and only some 20 defined tags come before the orientation's number).
_MAX_IFD_ENTRIES = 128
# Segments or chunks walked looking for EXIF data: a JPEG's come before its pixels, a PNG's eXIf may follow
# its pixel chunks (8 KiB each, so a 10 MiB PNG has some 1,300).
_MAX_SEGMENTS = 4096


def _big_endian_uint32(data: tf.Tensor, offset: int) -> tf.Tensor:
    digits = tf.cast(tf.io.decode_raw(tf.strings.substr(data, offset, 4), tf.uint8), tf.int64)
    return ((digits[0] * 256 + digits[1]) * 256 + digits[2]) * 256 + digits[3]


def _length(data: tf.Tensor) -> tf.Tensor:
    return tf.cast(tf.strings.length(data), tf.int64)


def _read(data: tf.Tensor, offset: tf.Tensor, count: int) -> tf.Tensor:
    """``count`` bytes of ``data`` from ``offset`` as int64, zeros past the end (never an out-of-range error)."""
    offset = tf.clip_by_value(tf.cast(offset, tf.int64), 0, _length(data))
    return tf.cast(tf.io.decode_raw(tf.strings.substr(data, offset, count), tf.uint8, fixed_length=count), tf.int64)


def _number(digits: tf.Tensor, little_endian: tf.Tensor) -> tf.Tensor:
    """The unsigned integer of the last axis of ``digits`` (bytes as int64), in either byte order."""
    count = digits.shape[-1]
    little = tf.constant([256**index for index in range(count)], tf.int64)
    return tf.reduce_sum(digits * tf.where(little_endian, little, tf.reverse(little, [0])), axis=-1)


def _walk(data: tf.Tensor, start: int, segment, limit: int = _MAX_SEGMENTS) -> tf.Tensor:
    """Follow a file's segments from ``start``: ``segment(offset) -> (found, next_offset, stop)``; the first
    ``found`` that is not -1, or -1 when a segment says stop, the data ends or ``limit`` segments were read."""
    length = _length(data)

    def more(offset, found, steps):
        return (found < 0) & (offset + 8 <= length) & (steps < limit)

    def step(offset, found, steps):
        hit, next_offset, stop = segment(offset)
        return tf.where(stop, length, next_offset), hit, steps + 1

    _, found, _ = tf.while_loop(more, step, (tf.constant(start, tf.int64), tf.constant(-1, tf.int64),
                                            tf.constant(0)))
    return found


def _jpeg_exif(offset: tf.Tensor, data: tf.Tensor):
    head = _read(data, offset, 10)  # FF, marker, length (2 bytes, big-endian), "Exif\0\0"
    marker, length = head[1], head[2] * 256 + head[3]
    is_exif = (head[0] == 0xFF) & (marker == 0xE1) & tf.reduce_all(
        tf.equal(head[4:], tf.constant(list(b"Exif\0\0"), tf.int64)))
    # Past the headers (start of scan, end of image) or not a marker at all: no EXIF segment to find.
    stop = (head[0] != 0xFF) | (marker == 0xDA) | (marker == 0xD9) | (length < 2)
    return tf.where(is_exif, offset + 10, tf.constant(-1, tf.int64)), offset + 2 + length, stop


def _png_exif(offset: tf.Tensor, data: tf.Tensor):
    head = _read(data, offset, 14)  # length (4 bytes, big-endian), type, and the first 6 bytes of the data
    length = _number(head[:4], tf.constant(False))
    kind = tf.strings.substr(data, tf.minimum(offset + 4, _length(data)), 4)
    # An eXIf chunk holds the TIFF structure itself; some writers put JPEG's "Exif\0\0" before it.
    prefixed = tf.reduce_all(tf.equal(head[8:], tf.constant(list(b"Exif\0\0"), tf.int64)))
    found = tf.where(tf.equal(kind, b"eXIf"), offset + tf.where(prefixed, tf.constant(14, tf.int64), 8), -1)
    return found, offset + 12 + length, tf.equal(kind, b"IEND")


def _tiff_orientation(data: tf.Tensor, start: tf.Tensor) -> tf.Tensor:
    """The orientation tag in IFD0 of the TIFF structure (EXIF data) at ``start``; 1 when there is none."""
    order = tf.strings.substr(data, tf.clip_by_value(start, 0, _length(data)), 2)
    little = tf.equal(order, b"II")
    valid = little | tf.equal(order, b"MM")
    ifd = start + _number(_read(data, start + 4, 4), little)
    count = _number(_read(data, ifd, 2), little)
    entries = tf.reshape(_read(data, ifd + 2, 12 * _MAX_IFD_ENTRIES), (_MAX_IFD_ENTRIES, 12))
    tags, kinds = _number(entries[:, 0:2], little), _number(entries[:, 2:4], little)
    # A SHORT (type 3) is the first two bytes of the value field, a LONG (type 4) all four.
    values = tf.where(tf.equal(kinds, 4), _number(entries[:, 8:12], little), _number(entries[:, 8:10], little))
    matches = tf.equal(tags, _ORIENTATION_TAG) & (tf.range(_MAX_IFD_ENTRIES, dtype=tf.int64) < count)
    matches &= valid & (tf.equal(kinds, 3) | tf.equal(kinds, 4))
    value = tf.where(tf.reduce_any(matches), tf.gather(values, tf.argmax(tf.cast(matches, tf.int32))),
                     tf.constant(1, tf.int64))
    return tf.where((value >= 1) & (value <= 8), value, tf.constant(1, tf.int64))


def exif_orientation(data: tf.Tensor) -> tf.Tensor:
    """The EXIF orientation (1-8, int64) of encoded JPEG or PNG bytes; 1 (upright) without one.

    Example:
        >>> import io
        >>> from PIL import Image
        >>> exif = Image.Exif()
        >>> exif[0x0112] = 6
        >>> buffer = io.BytesIO()
        >>> Image.new("RGB", (8, 4)).save(buffer, format="JPEG", exif=exif.tobytes())
        >>> int(exif_orientation(tf.constant(buffer.getvalue())))
        6
    """
    def jpeg():
        start = _walk(data, 2, lambda offset: _jpeg_exif(offset, data))
        return tf.where(start < 0, tf.constant(1, tf.int64), _tiff_orientation(data, start))

    def png():
        start = _walk(data, 8, lambda offset: _png_exif(offset, data))
        return tf.where(start < 0, tf.constant(1, tf.int64), _tiff_orientation(data, start))

    is_png = tf.equal(tf.strings.substr(data, 0, 8), _PNG_SIGNATURE)
    return tf.cond(tf.io.is_jpeg(data), jpeg, lambda: tf.cond(is_png, png, lambda: tf.constant(1, tf.int64)))


def upright(image: tf.Tensor, orientation: tf.Tensor) -> tf.Tensor:
    """``image`` (H, W, C) turned as EXIF ``orientation`` says, as ``PIL.ImageOps.exif_transpose`` turns it.

    Example:
        >>> image = tf.reshape(tf.range(6), (2, 3, 1))
        >>> upright(image, tf.constant(6, tf.int64))[..., 0].numpy().tolist()  # stored 90 degrees anticlockwise
        [[3, 0], [4, 1], [5, 2]]
    """
    def transposed(pixels):
        return tf.transpose(pixels, [1, 0, 2])

    branches = [
        lambda: image,
        lambda: image[:, ::-1],  # 2: mirrored
        lambda: image[::-1, ::-1],  # 3: upside down
        lambda: image[::-1],  # 4: upside down, mirrored
        lambda: transposed(image),  # 5: mirrored, on its side
        lambda: transposed(image[::-1]),  # 6: turned anticlockwise: turn it clockwise
        lambda: transposed(image[::-1, ::-1]),  # 7: mirrored, on its other side
        lambda: transposed(image[:, ::-1]),  # 8: turned clockwise: turn it anticlockwise
    ]
    return tf.switch_case(tf.cast(orientation, tf.int32) - 1, branches)


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


def _jpeg_scale_index(data: tf.Tensor, size: tuple[int, int]) -> tf.Tensor:
    """Which of the scales 1, 1/2, 1/4, 1/8 `captioner.data.images.draft_for_size` (Pillow's ``draft``) picks: the
    smallest that keeps both sides at least twice the largest side of ``size``."""
    side = 2 * max(int(size[0]), int(size[1]))
    shape = tf.image.extract_jpeg_shape(data, output_type=tf.int64)
    scale = tf.minimum(shape[0] // side, shape[1] // side)
    return tf.cast(tf.where(scale >= 8, 3, tf.where(scale >= 4, 2, tf.where(scale >= 2, 1, 0))), tf.int32)


def decode_rgb(data: tf.Tensor, max_pixels: int = DEFAULT_MAX_PIXELS, for_size: tuple[int, int] | None = None
               ) -> tf.Tensor:
    """``(H, W, 3)`` float32 RGB in 0..255, upright, from encoded JPEG/PNG (or GIF/BMP/WebP) bytes.

    Raises ``tf.errors.InvalidArgumentError`` for bytes that are not an image, and for images over
    ``max_pixels`` (checked from the header before decoding JPEG and PNG). With ``for_size`` (the size it will
    be resized to), a large JPEG decodes at a reduced scale, as the Python loader decodes it.
    """
    tf.debugging.assert_less_equal(header_pixels(data), tf.constant(max_pixels, tf.int64),
                                   message=f"the image has more than {max_pixels} pixels")

    def jpeg_at(ratio: int):
        return lambda: tf.cast(tf.io.decode_jpeg(data, channels=3, ratio=ratio, dct_method="INTEGER_ACCURATE"),
                               tf.float32)

    def jpeg():
        if for_size is None:
            return jpeg_at(1)()
        return tf.switch_case(_jpeg_scale_index(data, for_size), [jpeg_at(ratio) for ratio in (1, 2, 4, 8)])

    def on_white(rgba):
        alpha = rgba[..., 3:] / 255.0
        # On white, rounded to whole grey levels as Pillow's alpha_composite + RGB conversion gives them.
        return tf.round(rgba[..., :3] * alpha + 255.0 * (1.0 - alpha))

    def png():
        bit_depth, colour_type = _read(data, 24, 1)[0], _read(data, 25, 1)[0]

        def eight_bit():
            return on_white(tf.cast(tf.io.decode_png(data, channels=4), tf.float32))

        def sixteen_bit_grey():
            # Pillow reads 16-bit grey at full precision ("I;16"); load_image scales it by 1/257.
            grey = tf.cast(tf.io.decode_png(data, channels=1, dtype=tf.uint16), tf.float32) / 257.0
            return tf.tile(grey, [1, 1, 3])

        def sixteen_bit_colour():
            # Pillow keeps the high byte of each 16-bit sample of a colour (or grey + alpha) PNG.
            wide = tf.io.decode_png(data, channels=4, dtype=tf.uint16)
            return on_white(tf.cast(tf.bitwise.right_shift(wide, 8), tf.float32))

        return tf.cond(tf.equal(bit_depth, 16), lambda: tf.cond(tf.equal(colour_type, 0), sixteen_bit_grey,
                                                                sixteen_bit_colour), eight_bit)

    def other():
        image = tf.cast(tf.io.decode_image(data, channels=3, expand_animations=False), tf.float32)
        pixels = tf.cast(tf.shape(image)[0] * tf.shape(image)[1], tf.int64)
        tf.debugging.assert_less_equal(pixels, tf.constant(max_pixels, tf.int64),
                                       message=f"the image has more than {max_pixels} pixels")
        return image

    is_png = tf.equal(tf.strings.substr(data, 0, 8), _PNG_SIGNATURE)
    image = tf.cond(tf.io.is_jpeg(data), jpeg, lambda: tf.cond(is_png, png, other))
    image = upright(image, exif_orientation(data))
    image.set_shape([None, None, 3])
    return image


def decode_and_resize(data: tf.Tensor, size: tuple[int, int], max_pixels: int = DEFAULT_MAX_PIXELS) -> tf.Tensor:
    """``(size[0], size[1], 3)`` float32 RGB in 0..255: decoded, then resized bicubically with antialiasing."""
    image = decode_rgb(data, max_pixels, for_size=size)
    height, width = int(size[0]), int(size[1])
    same_size = tf.reduce_all(tf.equal(tf.shape(image)[:2], [height, width]))

    def resized():
        # Bicubic overshoots at sharp edges; clipped back into range as load_image does.
        return tf.clip_by_value(
            tf.image.resize(image, (height, width), method="bicubic", antialias=True), 0.0, 255.0)

    image = tf.cond(same_size, lambda: image, resized)
    image.set_shape([height, width, 3])
    return image
