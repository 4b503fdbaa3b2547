"""Image encoders (VGG16 up to fc2, a small VGG-style network), robust image loading and the feature cache.

Example:
    >>> from captioner.encoder import build_encoder
    >>> build_encoder({"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8}).output_shape
    (None, 8)
"""

from __future__ import annotations

from collections.abc import Mapping

import keras

from captioner.encoder.cache import CacheMismatchError, FeatureCache, FeatureCacheError, extract_features
from captioner.encoder.images import ImageLoadError, load_image, load_images, vgg_preprocess
from captioner.encoder.small_vgg import build_small_vgg_encoder
from captioner.encoder.vgg16 import (
    VGG16_FEATURE_DIM,
    VGG16_IMAGE_SIZE,
    VGGPreprocessing,
    build_vgg16_encoder,
    resolve_vgg16_weights,
)

ENCODERS = ("small", "vgg16")


def encoder_config(
    kind: str = "small",
    image_size: int = 64,
    conv_filters=(16, 32, 64),
    feature_dim: int = 4096,
    weights: str | None = None,
) -> dict:
    """The JSON-able description of an encoder that `build_encoder` and the feature cache key on.

    VGG16 always reads 224 x 224 images and yields 4096 features, whatever ``image_size``/``feature_dim`` say.

    Example:
        >>> encoder_config("vgg16", weights="imagenet")["image_size"]
        224
    """
    if kind not in ENCODERS:
        raise ValueError(f"Unknown encoder {kind!r}; valid encoders: {', '.join(ENCODERS)}.")
    if kind == "vgg16":
        return {"kind": "vgg16", "image_size": VGG16_IMAGE_SIZE, "feature_dim": VGG16_FEATURE_DIM,
                "weights": None if weights is None else str(weights)}
    return {"kind": "small", "image_size": int(image_size), "conv_filters": [int(f) for f in conv_filters],
            "feature_dim": int(feature_dim)}


def build_encoder(config: Mapping, weights: str | None = "config") -> keras.Model:
    """The encoder model described by ``config`` (see `encoder_config`).

    ``weights="config"`` uses the weights named in the config (VGG16); pass None to skip loading them, as a
    saved captioner does (its own file holds the encoder's weights).

    Example:
        >>> build_encoder(encoder_config("small", image_size=16, conv_filters=[4], feature_dim=8)).input_shape
        (None, 16, 16, 3)
    """
    kind = config.get("kind")
    if kind == "vgg16":
        return build_vgg16_encoder(config.get("weights") if weights == "config" else weights)
    if kind == "small":
        return build_small_vgg_encoder(config["image_size"], config["conv_filters"], config["feature_dim"])
    raise ValueError(f"Unknown encoder kind {kind!r} in encoder config {dict(config)!r}; valid: {ENCODERS}.")


__all__ = [
    "ENCODERS", "CacheMismatchError", "FeatureCache", "FeatureCacheError", "ImageLoadError", "VGG16_FEATURE_DIM",
    "VGG16_IMAGE_SIZE", "VGGPreprocessing", "build_encoder", "build_small_vgg_encoder", "build_vgg16_encoder",
    "encoder_config", "extract_features", "load_image", "load_images", "resolve_vgg16_weights", "vgg_preprocess",
]
