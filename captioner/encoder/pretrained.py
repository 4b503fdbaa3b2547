"""ImageNet backbones from ``keras.applications`` as caption encoders, chosen by name.

| name | network | feature | size |
|---|---|---|---|
| ``vgg16`` | VGG16 | ``fc2`` (Vinyals et al. 2015, Karpathy & Fei-Fei 2015) | 4096 |
| ``vgg19`` | VGG19 | ``fc2`` | 4096 |
| ``mobilenet_v2`` | MobileNetV2 (alpha 1.0) | global average pool | 1280 |
| ``resnet50`` | ResNet50 | global average pool | 2048 |

Every encoder reads 224 x 224 RGB pixels in 0..255 and applies its backbone's own preprocessing inside the model
(`ImageNetPreprocessing`), so a saved captioner needs nothing else at hand. Weights are ``"imagenet"`` (Keras' real
download, cached in ``~/.keras/models``; offline it fails within seconds and names the local-file alternative),
a local weights file (``.h5`` / ``.weights.h5``, with or without the classifier top for the pooled backbones), or
None (random).

Example:
    >>> encoder = build_pretrained_encoder("mobilenet_v2", weights=None)
    >>> encoder.output_shape
    (None, 1280)
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import keras

from captioner.encoder.preprocessing import ImageNetPreprocessing
from captioner.errors import CaptionerError

PRETRAINED_IMAGE_SIZE = 224
WEIGHTS_HOST = "storage.googleapis.com"


class EncoderWeightsError(CaptionerError, ValueError):
    """A weights file does not exist or does not hold weights for the encoder it was given to."""


@dataclass(frozen=True)
class Backbone:
    """How one ``keras.applications`` network becomes a caption encoder."""

    # The keras.applications constructor.
    application: str
    # Size of the feature vector.
    feature_dim: int
    # Input preprocessing it was trained with (see ImageNetPreprocessing).
    preprocessing: str
    # A layer of the full network (with its classifier top) whose output is the feature; None: the global
    # average pool of the network without its top.
    feature_layer: str | None
    # The file Keras downloads for weights="imagenet" (with the top when feature_layer is set).
    imagenet_file: str


BACKBONES = {
    "vgg16": Backbone("VGG16", 4096, "caffe", "fc2", "vgg16_weights_tf_dim_ordering_tf_kernels.h5"),
    "vgg19": Backbone("VGG19", 4096, "caffe", "fc2", "vgg19_weights_tf_dim_ordering_tf_kernels.h5"),
    "mobilenet_v2": Backbone(
        "MobileNetV2", 1280, "tf", None, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
    ),
    "resnet50": Backbone("ResNet50", 2048, "caffe", None, "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"),
}


def backbone(name: str) -> Backbone:
    """The `Backbone` called ``name``; an unknown name raises, listing the valid ones.

    Example:
        >>> backbone("resnet50").feature_dim
        2048
    """
    try:
        return BACKBONES[name]
    except KeyError:
        raise ValueError(f"Unknown pretrained encoder {name!r}; valid: {', '.join(BACKBONES)}.") from None


def _cached_imagenet_weights(name: str) -> Path | None:
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    candidate = keras_home / "models" / backbone(name).imagenet_file
    return candidate if candidate.is_file() else None


def _local_copy_hint(name: str) -> str:
    # Machines without a network may hold a copy of the MobileNetV2 weights in the shared data folder.
    from textmodels.data.paths import shared_data_dir

    data = shared_data_dir()
    if data is None:
        return ""
    copies = sorted((data / "weights").glob(f"{name}*no_top*.h5"))
    return f" A local copy is at {copies[0]}." if copies else ""


def resolve_weights(name: str, weights: str | Path | None) -> str | Path | None:
    """What to build encoder ``name`` with: ``"imagenet"``, an existing file's `Path`, or None (random).

    ``"imagenet"`` needs the download host unless Keras already cached the file; offline it raises
    `textmodels.data.network.OfflineError` at once, naming the local-file alternative.

    Example:
        >>> resolve_weights("vgg19", "none") is None
        True
    """
    spec = backbone(name)
    if weights is None or (isinstance(weights, str) and weights.lower() == "none"):
        return None
    if isinstance(weights, str) and weights == "imagenet":
        if _cached_imagenet_weights(name) is None:
            from textmodels.data.network import require_network

            require_network(
                WEIGHTS_HOST,
                what=f"the {spec.application} ImageNet weights",
                alternative=(
                    f"Download {spec.imagenet_file} on a machine with a network and pass its path instead: "
                    f"weights='/path/to/{spec.imagenet_file}' (CLI: --weights FILE), or copy it to "
                    f"~/.keras/models/; weights=None (--weights none) starts from random weights."
                    + _local_copy_hint(name)
                ),
            )
        return "imagenet"
    path = Path(weights)
    if not path.is_file():
        raise EncoderWeightsError(
            f"Weights file {str(path)!r} for the {name} encoder does not exist "
            "(expected 'imagenet', 'none' or a weights file)."
        )
    return path


def _load_exactly(model: keras.Model, path: Path) -> None:
    # Keras only warns about objects of a file it could not match; a partial load is a failed load here.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.load_weights(path)
    if caught:
        raise ValueError(str(caught[0].message).strip().splitlines()[0])


def _load_weights_file(name: str, model: keras.Model, path: Path) -> None:
    spec = backbone(name)
    try:
        _load_exactly(model, path)
        return
    except Exception as error:  # noqa: BLE001 - Keras raises ValueError/OSError/KeyError for foreign files
        first_error = error
    if spec.feature_layer is None:
        # A file of the full network (with its classifier) also fits: copy the shared layers by name.
        full = getattr(keras.applications, spec.application)(
            include_top=True, weights=None, input_shape=(PRETRAINED_IMAGE_SIZE, PRETRAINED_IMAGE_SIZE, 3)
        )
        try:
            _load_exactly(full, path)
            for layer in model.layers:
                if layer.weights:
                    layer.set_weights(full.get_layer(layer.name).get_weights())
            return
        except Exception:  # noqa: BLE001 - report the first, more direct failure
            pass
    top = "with its classifier top (fc1, fc2)" if spec.feature_layer else "with or without its classifier top"
    raise EncoderWeightsError(
        f"{path} does not hold weights for the {name} encoder (keras.applications.{spec.application}, "
        f"224 x 224, {top}): {str(first_error).splitlines()[0][:300]}"
    )


def build_pretrained_encoder(name: str, weights: str | Path | None = "imagenet") -> keras.Model:
    """(batch, 224, 224, 3) RGB in 0..255 -> (batch, feature_dim) features of backbone ``name``.

    Args:
        name: a key of `BACKBONES` (``vgg16``, ``vgg19``, ``mobilenet_v2``, ``resnet50``).
        weights: ``"imagenet"`` (the real download), a local weights file, or None for random weights.

    Example:
        >>> encoder = build_pretrained_encoder("vgg16", weights=None)
        >>> encoder.output_shape, encoder.get_layer("vgg16").layers[-1].name
        ((None, 4096), 'fc2')
    """
    spec = backbone(name)
    resolved = resolve_weights(name, weights)
    shape = (PRETRAINED_IMAGE_SIZE, PRETRAINED_IMAGE_SIZE, 3)
    application = getattr(keras.applications, spec.application)
    download = "imagenet" if resolved == "imagenet" else None
    if spec.feature_layer is not None:
        network = application(include_top=True, weights=download, input_shape=shape)
        trunk = keras.Model(network.inputs, network.get_layer(spec.feature_layer).output, name=name)
    else:
        network = trunk = application(include_top=False, pooling="avg", weights=download, input_shape=shape,
                                      name=name)
    if isinstance(resolved, Path):
        _load_weights_file(name, network, resolved)
    images = keras.Input(shape, name="images")
    features = trunk(ImageNetPreprocessing(spec.preprocessing, name="preprocessing")(images))
    return keras.Model(images, features, name=f"{name}_encoder")
