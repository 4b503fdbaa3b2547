"""Image encoders (ImageNet backbones by name, a small VGG-style network) and the feature cache.

Example:
    >>> from captioner.encoder import build_encoder
    >>> build_encoder({"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8}).output_shape
    (None, 8)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import keras

from captioner.config import ENCODERS
from captioner.encoder.cache import (
    CacheMismatchError,
    FeatureCache,
    FeatureCacheError,
    extract_features,
    read_features,
)
from captioner.encoder.preprocessing import ImageNetPreprocessing, vgg_preprocess
from captioner.encoder.pretrained import (
    BACKBONES,
    PRETRAINED_IMAGE_SIZE,
    EncoderWeightsError,
    backbone,
    build_pretrained_encoder,
    resolve_weights,
)
from captioner.encoder.small_vgg import build_small_vgg_encoder


def encoder_config(
    kind: str = "small",
    image_size: int = 64,
    conv_filters=(16, 32, 64),
    feature_dim: int = 4096,
    weights: str | None = None,
    feature_activation: str = "relu",
) -> dict:
    """The JSON-able description of an encoder that `build_encoder` and the feature cache key on.

    The pretrained backbones always read 224 x 224 images and yield their own feature size, whatever
    ``image_size``/``feature_dim`` say; ``conv_filters`` and ``feature_activation`` are for the small encoder only.

    Example:
        >>> encoder_config("mobilenet_v2", weights="imagenet")["feature_dim"]
        1280
    """
    if kind not in ENCODERS:
        raise ValueError(f"Unknown encoder {kind!r}; valid encoders: {', '.join(ENCODERS)}.")
    if kind in BACKBONES:
        if weights is None or str(weights).lower() == "none":
            weights = None
        elif str(weights) != "imagenet":
            # A file is named by its absolute path, so a cache made with "w.h5" matches one asked for as "./w.h5".
            weights = str(Path(weights).resolve())
        return {"kind": kind, "image_size": PRETRAINED_IMAGE_SIZE, "feature_dim": BACKBONES[kind].feature_dim,
                "weights": weights}
    config = {"kind": "small", "image_size": int(image_size), "conv_filters": [int(f) for f in conv_filters],
              "feature_dim": int(feature_dim)}
    if feature_activation != "relu":
        # Written only when it differs from the ReLU that every earlier small encoder had, so their configs (and
        # the feature caches keyed on them) stay valid.
        config["feature_activation"] = feature_activation
    return config


def build_encoder(config: Mapping, weights: str | None = "config") -> keras.Model:
    """The encoder model described by ``config`` (see `encoder_config`).

    ``weights="config"`` uses the weights named in the config (pretrained backbones); pass None to skip loading
    them, as a saved captioner does (its own file holds the encoder's weights).

    Example:
        >>> build_encoder(encoder_config("small", image_size=16, conv_filters=[4], feature_dim=8)).input_shape
        (None, 16, 16, 3)
    """
    kind = config.get("kind")
    if kind in BACKBONES:
        return build_pretrained_encoder(kind, config.get("weights") if weights == "config" else weights)
    if kind == "small":
        # Configs written before the setting existed had the ReLU.
        return build_small_vgg_encoder(config["image_size"], config["conv_filters"], config["feature_dim"],
                                       config.get("feature_activation", "relu"))
    raise ValueError(f"Unknown encoder kind {kind!r} in encoder config {dict(config)!r}; valid: {ENCODERS}.")


__all__ = [
    "BACKBONES", "ENCODERS", "PRETRAINED_IMAGE_SIZE", "CacheMismatchError", "EncoderWeightsError", "FeatureCache",
    "FeatureCacheError", "ImageNetPreprocessing", "backbone", "build_encoder",
    "build_pretrained_encoder", "build_small_vgg_encoder", "encoder_config", "extract_features",
    "read_features", "resolve_weights", "vgg_preprocess",
]
