"""Every choice that shapes a captioner, in one place (after im2txt's ``configuration.py``).

The fields only record decisions; `captioner.training` and the CLI read them. Defaults are the ones the
README's demo and the tests use unless they say otherwise.

Example:
    >>> from captioner.config import CaptionerConfig
    >>> config = CaptionerConfig(cell="gru", inject="merge")
    >>> config.inject, config.units, config.min_count
    ('merge', 256, 5)
"""

from __future__ import annotations

from dataclasses import dataclass

from captioner.decoding_settings import DEFAULT_BEAM_SIZE

# Encoder names: "small" (a VGG-style CNN trained from scratch) and the keras.applications backbones of
# captioner.encoder.pretrained. Kept here, free of Keras, so the CLI can list them without importing TensorFlow.
ENCODERS = ("small", "vgg16", "vgg19", "mobilenet_v2", "resnet50")


@dataclass
class CaptionerConfig:
    """Encoder, decoder, vocabulary, training and decoding settings of one captioner.

    Example:
        >>> CaptionerConfig().encoder
        'small'
    """

    # --- Image encoder -----------------------------------------------------------------------------------
    # "small": a VGG-style stack of 3x3 convolutions trained from scratch on small images;
    # "vgg16" / "vgg19" (fc2, 4096-d), "mobilenet_v2" (1280-d), "resnet50" (2048-d): keras.applications
    # networks pretrained on ImageNet, 224 x 224 input, their own preprocessing inside the model.
    encoder: str = "small"
    # For the pretrained encoders: "imagenet" (downloaded once into ~/.keras/models), a local weights file, or
    # None (random).
    weights: str | None = None
    # Side of the square images fed to the small encoder (the pretrained ones ignore it and use 224).
    image_size: int = 64
    # Filters of each small-encoder block; every block halves the resolution.
    conv_filters: tuple[int, ...] = (16, 32, 64)
    # Size of the small encoder's feature vector (the pretrained ones have their own; 4096 = VGG16's fc2).
    feature_dim: int = 4096
    # What follows the small encoder's final batch normalisation: "relu" or "linear" (centred features; see
    # captioner.encoder.small_vgg.FEATURE_ACTIVATIONS).
    feature_activation: str = "relu"
    # Whether the encoder's weights are updated in end-to-end training (fine-tuning); False freezes them.
    train_encoder: bool = True
    # Most epochs of teaching the small encoder which words its photos' captions use, before the captioner trains
    # from pixels (captioner.encoder.concept_pretraining: what keeps a CNN learned from scratch on real photos
    # from ignoring them); 0: none.
    concept_epochs: int = 0

    # --- Decoder -----------------------------------------------------------------------------------------
    # Word embedding size.
    embedding_dim: int = 128
    # Recurrent state size of every layer.
    units: int = 256
    # "simple" | "gru" | "lstm" (any cell of textmodels.layers.RecurrentBlock).
    cell: str = "lstm"
    # Depth of the recurrent stack.
    layers: int = 1
    # How the image reaches the decoder: "first_step" (V.img added to step 0's pre-activation only),
    # "init_state", "pre_inject", "par_inject" or "merge".
    inject: str = "first_step"
    # Dropout on the embeddings and on the recurrent outputs during training.
    dropout: float = 0.0
    # Train the decoder without the image (zeros instead of features): the image-blind baseline.
    image_blind: bool = False
    # How the image feature is prepared before its projection (captioner.decoder.FEATURE_NORMALIZATIONS):
    # "standardize" centres and scales each dimension with the training photos' statistics, stored in the model
    # (CaptionDecoder.adapt_features); "l2" divides the raw feature by its norm; "standardize_l2" does both;
    # "none" passes the raw feature. An encoder trained with the decoder gets the identity statistics, since its
    # features move as it learns.
    feature_normalization: str = "standardize"

    # --- Vocabulary --------------------------------------------------------------------------------------
    # Words seen fewer times in the training captions become <unk>.
    min_count: int = 5
    # Longest caption in words (longer ones are cut); decoding stops after this many words too.
    max_length: int = 20

    # --- Training ----------------------------------------------------------------------------------------
    # Images per batch (each with all its captions).
    batch_size: int = 32
    # Maximum number of epochs (early stopping may end sooner).
    epochs: int = 20
    # "adam" | "sgd" | "rmsprop".
    optimizer: str = "adam"
    # None: the optimizer's default (1e-3 for Adam).
    learning_rate: float | None = None
    # Multiply the learning rate by this when the validation loss has not improved for lr_reduce_patience
    # epochs (Keras' ReduceLROnPlateau); None keeps it constant.
    lr_reduce_factor: float | None = None
    lr_reduce_patience: int = 1
    # Gradients are rescaled when their global norm exceeds this (None: no clipping).
    clipnorm: float | None = 5.0
    # Stop after this many epochs without improvement of val_loss (None: never stop early).
    patience: int | None = 3
    # Seed of weight initialisation and shuffling.
    seed: int = 0

    # --- Decoding ----------------------------------------------------------------------------------------
    # Beam width stored in the trained model (its DecodingSettings), which evaluation and the CLI then use
    # (1 = greedy); `captioner.tuning.tune_decoding` replaces it with the width chosen on the validation split.
    beam_size: int = DEFAULT_BEAM_SIZE


# The decoder recipe for real photos on frozen pretrained features: Tanti, Gatt & Camilleri's released configuration
# (the image L2-normalised, 512-d word embeddings, a GRU, dropout 0.5 on embeddings and recurrent outputs, Adam at
# 1e-3), with the learning rate halved when the validation loss stalls and early stopping on it. `captioner demo
# --data flickr8k` trains with it, the shipped preset was trained with it, and benchmarks/flickr8k_captioning.py
# measures it on the official Flickr8k split (its rows first_step_tanti:N). Against the earlier recipe (standardised
# features, embeddings 256, an LSTM, dropout 0.3, Adam 3e-3) it reached a lower validation loss (2.590 against
# 2.655-2.663 over 3 seeds) and +0.068 validation CIDEr-D with beam 3 (benchmarks/flickr8k_recipe_ablation.py);
# on the test split, 3 seeds: BLEU-4 0.178, METEOR 0.189, CIDEr-D 0.419 against 0.163, 0.180, 0.379.
# A batch is 32 photos with all their captions (160 sentences), so an epoch of Flickr8k is only 188 steps.
PHOTO_DECODER = {
    "embedding_dim": 512,
    "units": 256,
    "cell": "gru",
    "dropout": 0.5,
    "feature_normalization": "l2",
    "min_count": 5,
    "max_length": 20,
    "batch_size": 32,
    # A cap far above where early stopping ends the run (28-31 epochs with this recipe, 3 seeds).
    "epochs": 60,
    "learning_rate": 1e-3,
    "lr_reduce_factor": 0.5,
    "lr_reduce_patience": 1,
    "patience": 2,
}
