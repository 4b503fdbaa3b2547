"""VGG16 up to ``fc2``: the 4096-d image feature of Vinyals et al. (2015) and Karpathy & Fei-Fei (2015).

Weights come from ImageNet (Keras' real download, cached in ``~/.keras/models``), from a local weights file, or
are random. Without a network the ImageNet download fails within seconds and says how to pass a local file.

Example:
    >>> import numpy as np
    >>> from captioner.encoder.vgg16 import VGGPreprocessing
    >>> out = VGGPreprocessing()(np.full((1, 1, 1, 3), 128.0, "float32"))
    >>> [round(float(value), 2) for value in np.asarray(out)[0, 0, 0]]
    [24.06, 11.22, 4.32]
"""

from __future__ import annotations

from pathlib import Path

import keras

from captioner.encoder.images import vgg_preprocess

VGG16_IMAGE_SIZE = 224
VGG16_FEATURE_DIM = 4096
WEIGHTS_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels.h5"
WEIGHTS_HOST = "storage.googleapis.com"


@keras.saving.register_keras_serializable(package="captioner")
class VGGPreprocessing(keras.layers.Layer):
    """RGB images in 0..255 -> VGG's input (BGR, ImageNet means subtracted), inside the model.

    Example:
        >>> import numpy as np
        >>> tuple(VGGPreprocessing()(np.zeros((2, 4, 4, 3), "float32")).shape)
        (2, 4, 4, 3)
    """

    def call(self, images):
        return vgg_preprocess(images)


def _cached_imagenet_weights() -> Path | None:
    cache_dir = Path(keras.config.keras_home() if hasattr(keras.config, "keras_home") else Path.home() / ".keras")
    candidate = cache_dir / "models" / WEIGHTS_FILE
    return candidate if candidate.is_file() else None


def resolve_vgg16_weights(weights: str | Path | None) -> str | None:
    """What ``keras.applications.VGG16(weights=...)`` should get: ``"imagenet"``, a checked file path, or None.

    ``"imagenet"`` needs the download host unless Keras already cached the file; offline it raises
    `textmodels.data.network.OfflineError` at once, naming the local-file alternative.

    Example:
        >>> resolve_vgg16_weights(None) is None
        True
    """
    if weights is None or (isinstance(weights, str) and weights.lower() == "none"):
        return None
    if isinstance(weights, str) and weights == "imagenet":
        if _cached_imagenet_weights() is None:
            from textmodels.data.network import require_network

            require_network(
                WEIGHTS_HOST,
                what="the VGG16 ImageNet weights",
                alternative=(
                    f"Download {WEIGHTS_FILE} on a machine with a network and pass its path instead: "
                    "weights='/path/to/" + WEIGHTS_FILE + "' (CLI: --weights /path/to/" + WEIGHTS_FILE + "), "
                    f"or copy it to ~/.keras/models/; weights=None (--weights none) trains from random weights."
                ),
            )
        return "imagenet"
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(
            f"VGG16 weights file {str(path)!r} does not exist (expected 'imagenet', None or a .h5 weights file)."
        )
    return str(path)


def build_vgg16_encoder(weights: str | Path | None = "imagenet", name: str = "vgg16_fc2") -> keras.Model:
    """A model mapping (batch, 224, 224, 3) RGB images in 0..255 to their (batch, 4096) ``fc2`` features.

    Args:
        weights: ``"imagenet"`` (the real download), a local weights file for the full VGG16 (with top), or
            None for random initialisation.

    Example:
        >>> encoder = build_vgg16_encoder(weights=None)
        >>> encoder.output_shape
        (None, 4096)
    """
    resolved = resolve_vgg16_weights(weights)
    images = keras.Input((VGG16_IMAGE_SIZE, VGG16_IMAGE_SIZE, 3), name="images")
    try:
        base = keras.applications.VGG16(
            include_top=True, weights=resolved, input_shape=(VGG16_IMAGE_SIZE, VGG16_IMAGE_SIZE, 3)
        )
    except (OSError, ValueError) as error:
        raise ValueError(f"Cannot build VGG16 with weights={str(weights)!r}: {error}") from None
    trunk = keras.Model(base.inputs, base.get_layer("fc2").output, name="vgg16")
    features = trunk(VGGPreprocessing(name="vgg_preprocessing")(images))
    return keras.Model(images, features, name=name)
