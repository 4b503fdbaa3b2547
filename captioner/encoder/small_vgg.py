"""A small VGG-style image encoder that trains from scratch on small images in minutes on a CPU.

Like VGG16 it stacks blocks of two 3x3 convolutions followed by 2x2 max-pooling, and ends in a dense layer
whose output is the image feature (4096-d by default, the size of VGG16's ``fc2``). Batch normalisation after
every convolution and after the dense layer lets it train from random weights with the decoder, end to end.
Spatial layout is kept until the dense layer (flatten, no global pooling), because captions name where
things are.

Example:
    >>> encoder = build_small_vgg_encoder(image_size=32, conv_filters=(8, 16), feature_dim=64)
    >>> encoder.output_shape
    (None, 64)
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from captioner.encoder.preprocessing import ImageNetPreprocessing
from textmodels.errors import ConfigurationError

# Keras' default (0.99) averages over ~100 steps; trained from scratch, the weights move faster than that and the
# inference-time statistics would lag behind them (unstable validation loss). 0.9 tracks ~10 steps.
BN_MOMENTUM = 0.9
# What follows the final batch normalisation. "relu" leaves all-positive features with a large shared offset,
# the pattern that saturated first_step's step-0 gates on raw MobileNetV2 features; "linear" keeps them centred.
FEATURE_ACTIVATIONS = ("relu", "linear")


def build_small_vgg_encoder(
    image_size: int = 64,
    conv_filters: Sequence[int] = (16, 32, 64),
    feature_dim: int = 4096,
    feature_activation: str = "relu",
    name: str = "small_vgg",
) -> keras.Model:
    """(batch, image_size, image_size, 3) RGB in 0..255 -> (batch, feature_dim) ReLU features.

    Args:
        image_size: side of the square input; must be divisible by ``2 ** len(conv_filters)``.
        conv_filters: filters of each block of two 3x3 convolutions; each block halves the resolution.
        feature_dim: size of the final dense layer (the image feature).
        feature_activation: ``"relu"`` or ``"linear"``: what follows the final batch normalisation. Linear
            features stay centred (zero mean, unit spread per dimension over a batch), as the first-step decoder
            needs (see `FEATURE_ACTIVATIONS`).

    Example:
        >>> build_small_vgg_encoder(image_size=16, conv_filters=(4,), feature_dim=8).count_params() > 0
        True
    """
    conv_filters = [int(filters) for filters in conv_filters]
    if not conv_filters or any(filters < 1 for filters in conv_filters):
        raise ConfigurationError(f"conv_filters must be a non-empty list of positive ints, got {conv_filters!r}.")
    if image_size < 2 ** len(conv_filters) or image_size % 2 ** len(conv_filters):
        raise ConfigurationError(
            f"image_size {image_size} must be a multiple of 2**{len(conv_filters)} = {2 ** len(conv_filters)} "
            f"(one halving per block of conv_filters={conv_filters})."
        )
    if feature_dim < 1:
        raise ConfigurationError(f"feature_dim must be positive, got {feature_dim}.")
    if feature_activation not in FEATURE_ACTIVATIONS:
        raise ConfigurationError(
            f"feature_activation must be one of {FEATURE_ACTIVATIONS}, got {feature_activation!r}."
        )
    images = keras.Input((image_size, image_size, 3), name="images")
    # The VGG mean subtraction leaves values of about +-128; dividing keeps the first activations near unit scale.
    centred = ImageNetPreprocessing("caffe", name="vgg_preprocessing")(images)
    x = keras.layers.Rescaling(1.0 / 64.0, name="scale")(centred)
    for block, filters in enumerate(conv_filters, start=1):
        for conv in (1, 2):
            x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"block{block}_conv{conv}")(x)
            x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"block{block}_bn{conv}")(x)
            x = keras.layers.ReLU(name=f"block{block}_relu{conv}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    # Most of a small picture is background, so raw dense outputs barely differ between images; normalising
    # them across the batch makes the differences (the content) what the decoder sees from the first step.
    x = keras.layers.Dense(feature_dim, use_bias=False, name="fc")(x)
    x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name="fc_bn")(x)
    features = keras.layers.ReLU(name="fc_relu")(x) if feature_activation == "relu" else x
    return keras.Model(images, features, name=name)
