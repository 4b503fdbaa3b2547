"""One helper that every layer test uses: build, train a step, round-trip the config and a `.keras` file, and
check that padding the same sequences to two lengths gives the same output. Layers of one sequence
(``layer(sequence)``) and layers that also take a vector per example first (``layer(context, sequence)``, such as
the caption decoder's image feature) go through it alike; image layers (the preprocessing a served model runs
on every upload) go through `check_image_layer`."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
from keras import ops

LENGTHS = (6, 3, 1)  # one full row, one half-padded row, one single-step row


def padded_batch(kind: str, steps: int, features: int, vocabulary: int, seed: int = 0):
    """A post-padded batch with rows of `LENGTHS`: token ids (kind "ids") or float vectors (kind "vectors")."""
    rng = np.random.default_rng(seed)
    valid = np.arange(steps)[None, :] < np.array(LENGTHS)[:, None]
    if kind == "ids":
        return (rng.integers(1, vocabulary, (len(LENGTHS), steps)) * valid).astype("int32")
    # Masking(0.0) recovers the mask; real steps are never all-zero with normal draws.
    return (rng.normal(size=(len(LENGTHS), steps, features)) * valid[..., None]).astype("float32")


def _model(make_layer: Callable, kind: str, features: int, vocabulary: int, context_dim: int | None) -> keras.Model:
    if kind == "ids":
        inputs = keras.Input((None,), dtype="int32")
        x = inputs
    else:
        inputs = keras.Input((None, features))
        x = keras.layers.Masking(0.0)(inputs)
    if context_dim is None:
        outputs = make_layer()(x)
    else:
        context = keras.Input((context_dim,))
        outputs = make_layer()(context, x)
        inputs = [context, inputs]
    if isinstance(outputs, (list, tuple)):
        outputs = outputs[0]
    return keras.Model(inputs, outputs)


def _valid_prefix(output: np.ndarray, steps: int, time_scale: int) -> np.ndarray:
    return output[:, : -(-steps // time_scale)] if output.ndim == 3 else output


def check_layer(
    make_layer: Callable[[], keras.layers.Layer],
    kind: str = "vectors",
    features: int = 4,
    vocabulary: int = 20,
    time_scale: int = 1,
    tmp_path=None,
    context_dim: int | None = None,
) -> None:
    """Asserts the contract every shared layer keeps.

    Args:
        make_layer: builds a fresh layer (the same configuration every call).
        kind: ``"vectors"`` (float sequences, mask from `Masking`) or ``"ids"`` (token ids, mask from the layer).
        time_scale: how much the layer shortens the time axis (pyramidal blocks), for the padding check.
        tmp_path: a folder for the `.keras` round trip.
        context_dim: the layer takes a vector of this size per example before the sequence.
    """
    sequences = padded_batch(kind, 6, features, vocabulary)
    context = None
    if context_dim is not None:
        context = np.random.default_rng(2).normal(size=(len(LENGTHS), context_dim)).astype("float32")

    def with_context(sequence_batch):
        return sequence_batch if context is None else [context, sequence_batch]

    batch = with_context(sequences)
    model = _model(make_layer, kind, features, vocabulary, context_dim)
    before = model(batch)
    before = ops.convert_to_numpy(before)
    assert np.all(np.isfinite(before)), "the layer produced NaN/inf"

    # One training step must change the trainable weights.
    if model.trainable_weights:
        target = np.random.default_rng(1).normal(size=before.shape).astype("float32")
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        initial = [np.array(w) for w in model.trainable_weights]
        loss = model.train_on_batch(batch, target)
        assert np.isfinite(loss)
        assert any(not np.allclose(a, np.array(w)) for a, w in zip(initial, model.trainable_weights))
    reference = ops.convert_to_numpy(model(batch))

    # get_config round trip: same config, same outputs with the same weights.
    layer = model.layers[-1]
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    cloned_model = _model(lambda: clone, kind, features, vocabulary, context_dim)
    cloned_model.set_weights(model.get_weights())
    np.testing.assert_array_equal(ops.convert_to_numpy(cloned_model(batch)), reference)

    # .keras round trip with safe_mode: identical outputs.
    if tmp_path is not None:
        path = tmp_path / f"{layer.name}.keras"
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
        np.testing.assert_array_equal(ops.convert_to_numpy(loaded(batch)), reference)

    # Padding invariance: the same rows padded to 6 and to 11 steps give the same outputs on valid steps.
    longer = np.concatenate([sequences, np.zeros((sequences.shape[0], 5) + sequences.shape[2:], sequences.dtype)],
                            axis=1)
    short_out = ops.convert_to_numpy(model(batch))
    long_out = ops.convert_to_numpy(model(with_context(longer)))
    if short_out.ndim == 3:
        for row, length in enumerate(LENGTHS):
            valid = -(-length // time_scale)
            np.testing.assert_allclose(long_out[row, :valid], short_out[row, :valid], atol=1e-6)
    else:
        np.testing.assert_allclose(long_out, short_out, atol=1e-6)


def check_image_layer(make_layer: Callable[[], keras.layers.Layer], tmp_path, size: int = 8) -> None:
    """Asserts the contract of a layer on batches of RGB images in 0..255 (``(batch, size, size, 3)``): finite
    outputs for uint8 and float pixels alike, trainable in a model (a step through a dense head changes its
    weights), the config and a `.keras` round trip (``safe_mode=True``) give identical outputs, and a photo's
    output does not depend on the rest of its batch, which is what lets a server pad a batch with copies."""
    pixels = np.random.default_rng(0).integers(0, 256, size=(4, size, size, 3)).astype("uint8")
    inputs = keras.Input((size, size, 3))
    features = keras.layers.GlobalAveragePooling2D()(make_layer()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2)(features))
    reference = ops.convert_to_numpy(model(pixels.astype("float32")))
    assert np.all(np.isfinite(reference)), "the layer produced NaN/inf"
    layer = model.layers[1]
    np.testing.assert_allclose(ops.convert_to_numpy(layer(pixels)), ops.convert_to_numpy(layer(pixels / 1.0)),
                               atol=1e-5, err_msg="uint8 and float pixels differ")

    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    initial = [np.array(w) for w in model.trainable_weights]
    assert np.isfinite(model.train_on_batch(pixels.astype("float32"), np.ones((4, 2), "float32")))
    assert any(not np.allclose(a, np.array(w)) for a, w in zip(initial, model.trainable_weights))
    reference = ops.convert_to_numpy(layer(pixels))

    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    clone(pixels)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(ops.convert_to_numpy(clone(pixels)), reference)

    path = tmp_path / f"{layer.name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(ops.convert_to_numpy(loaded(pixels.astype("float32"))),
                                  ops.convert_to_numpy(model(pixels.astype("float32"))))

    alone = ops.convert_to_numpy(layer(pixels[:1]))
    padded = ops.convert_to_numpy(layer(np.concatenate([pixels[:1]] * 3 + [pixels[1:2]])))
    np.testing.assert_allclose(padded[0], alone[0], atol=1e-5, err_msg="a photo's output depends on its batch")
