"""``tf.data`` pipelines that read photos from file paths: decoded in parallel, batch by batch, never a split at once.

The dataset holds paths (strings) and caption ids, not pixels: memory grows with the batch and the prefetch
buffer, not with the number of photos. Each photo is decoded by `captioner.encoder.load_image` (Pillow: EXIF
orientation, every colour mode, 16-bit, the pixel limit checked before decoding) inside ``tf.numpy_function``,
so training, feature extraction and captioning resize photos identically. A photo that cannot be read is
recorded, by path, in the ``unreadable`` mapping the caller passes in, and left out: dropped from the stream of
photos to caption, or kept in its training batch with all of its captions turned into padding.

Example:
    >>> import tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> folder = tempfile.mkdtemp()
    >>> Image.new("RGB", (30, 20), (255, 0, 0)).save(f"{folder}/red.png")
    >>> _ = open(f"{folder}/broken.jpg", "wb").write(b"not an image")
    >>> unreadable = {}
    >>> batches = image_batches([f"{folder}/red.png", f"{folder}/broken.jpg"], (8, 8), 4, unreadable=unreadable)
    >>> [(indices.tolist(), images.shape) for indices, images in batches.as_numpy_iterator()]
    [([0], (1, 8, 8, 3))]
    >>> [path.endswith("broken.jpg") for path in unreadable]
    [True]
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from pathlib import Path

import numpy as np

from captioner.data.images import ImageLoadError, load_image


def _decoder(image_size: tuple[int, int], unreadable: MutableMapping[str, str] | None):
    import tensorflow as tf

    height, width = int(image_size[0]), int(image_size[1])

    def decode(path: bytes):
        name = path.decode("utf-8")
        try:
            return load_image(name, size=(height, width)), True, b""
        except ImageLoadError as error:
            if unreadable is not None:
                unreadable[name] = str(error)
            return np.zeros((height, width, 3), np.float32), False, str(error).encode("utf-8")

    def decode_in_graph(path):
        image, ok, message = tf.numpy_function(decode, [path], [tf.float32, tf.bool, tf.string], stateful=False)
        image.set_shape((height, width, 3))
        ok.set_shape(())
        message.set_shape(())
        return image, ok, message

    return decode_in_graph


def decoded_images(
    paths: Sequence[str | Path],
    image_size: tuple[int, int],
    *,
    unreadable: MutableMapping[str, str] | None = None,
):
    """``(index, image, ok, message)`` per path, in order; a bad photo gives zeros, ``ok=False`` and its error.

    For callers that must account for every photo (feature extraction reports each bad one by name).

    Example:
        >>> decoded_images(["missing.png"], (4, 4)).element_spec[1].shape
        TensorShape([4, 4, 3])
    """
    import tensorflow as tf

    decode = _decoder(image_size, unreadable)
    paths = tf.constant([str(path) for path in paths], dtype=tf.string)
    return (
        tf.data.Dataset.from_tensor_slices(paths)
        .enumerate()
        .map(lambda index, path: (index, *decode(path)), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    )


def image_batches(
    paths: Sequence[str | Path],
    image_size: tuple[int, int],
    batch_size: int,
    *,
    unreadable: MutableMapping[str, str] | None = None,
):
    """Batches of ``(indices, images)`` of the readable photos, in order; bad ones are left out and recorded.

    Example:
        >>> image_batches([], (4, 4), 2).element_spec[1].shape
        TensorShape([None, 4, 4, 3])
    """
    import tensorflow as tf

    return (
        decoded_images(paths, image_size, unreadable=unreadable)
        .filter(lambda index, image, ok, message: ok)
        .map(lambda index, image, ok, message: (index, image))
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )


def caption_batches(
    inputs,
    captions: np.ndarray,
    batch_size: int,
    *,
    shuffle: bool = False,
    seed: int = 0,
    image_size: tuple[int, int] | None = None,
    unreadable: MutableMapping[str, str] | None = None,
):
    """Teacher-forcing batches ``({"images" or "features": ..., "tokens": ...}, targets)`` for ``fit``.

    Args:
        inputs: one image path per example (with ``image_size``: photos are decoded per batch) or a
            ``(N, feature_dim)`` array of cached features.
        captions: ``(N, K, T)`` caption ids, ``<bos> words <eos>`` post-padded; each batch is cut to its longest
            caption, so short captions do not pay for the longest one in the data.
        shuffle: reshuffle the examples every epoch (paths only: pixels are never held for the shuffle).

    Example:
        >>> ids = np.array([[[2, 5, 3, 0, 0]], [[2, 5, 6, 3, 0]]], np.int32)
        >>> inputs, targets = next(iter(caption_batches(np.ones((2, 4), np.float32), ids, 2)))
        >>> tuple(inputs["tokens"].shape), tuple(targets.shape)
        ((2, 1, 3), (2, 1, 3))
    """
    import tensorflow as tf

    from_paths = image_size is not None
    if from_paths:
        inputs = tf.constant([str(path) for path in inputs], dtype=tf.string)
    dataset = tf.data.Dataset.from_tensor_slices((inputs, captions))
    if shuffle:
        dataset = dataset.shuffle(len(captions), seed=seed, reshuffle_each_iteration=True)
    key = "features"
    if from_paths:
        key = "images"
        decode = _decoder(image_size, unreadable)

        def decode_example(path, ids):
            image, ok, _ = decode(path)
            # An unreadable photo keeps its place but loses its captions: all padding, which the loss ignores.
            # (Filtering it out would leave fit() a dataset of unknown length.)
            return image, tf.where(ok, ids, tf.zeros_like(ids))

        dataset = dataset.map(decode_example, num_parallel_calls=tf.data.AUTOTUNE)

    def to_example(pixels_or_features, ids):
        # At least <bos> <eos>: a batch of unreadable photos (all padding) still has one step to score nothing.
        longest = tf.maximum(tf.reduce_max(tf.reduce_sum(tf.cast(ids > 0, tf.int32), axis=-1)), 2)
        ids = ids[..., :longest]
        return {key: tf.cast(pixels_or_features, tf.float32), "tokens": ids[..., :-1]}, ids[..., 1:]

    return dataset.batch(batch_size).map(to_example, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def concept_batches(
    paths: Sequence[str | Path],
    targets: np.ndarray,
    batch_size: int,
    image_size: tuple[int, int],
    *,
    shuffle: bool = False,
    seed: int = 0,
    unreadable: MutableMapping[str, str] | None = None,
):
    """``(images, targets, weights)`` batches for `captioner.encoder.concept_pretraining`: an unreadable photo
    keeps its place with weight 0, so it teaches nothing (and ``fit`` keeps a dataset of known length).

    Example:
        >>> batches = concept_batches(["missing.png"], np.ones((1, 3), np.float32), 2, (4, 4))
        >>> [(images.shape, weights.tolist()) for images, _, weights in batches.as_numpy_iterator()]
        [((1, 4, 4, 3), [0.0])]
    """
    import tensorflow as tf

    decode = _decoder(image_size, unreadable)
    dataset = tf.data.Dataset.from_tensor_slices((tf.constant([str(path) for path in paths], tf.string), targets))
    if shuffle:
        dataset = dataset.shuffle(len(targets), seed=seed, reshuffle_each_iteration=True)

    def decode_example(path, example_targets):
        image, ok, _ = decode(path)
        return image, example_targets, tf.cast(ok, tf.float32)

    return (dataset.map(decode_example, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)
            .prefetch(tf.data.AUTOTUNE))
