"""Argument helpers shared by the captioner subcommands: the caption data, the image encoder and the feature cache.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_data_arguments(parser)
    >>> parser.parse_args(["c.json", "--images", "imgs"]).data
    'c.json'
"""

from __future__ import annotations

import json

from captioner.config import ENCODERS, CaptionerConfig
from textmodels.commands import options

DEFAULTS = CaptionerConfig()

# The flags that override a model's stored decoding settings (captioner.decoding_settings), each named after the
# setting it overrides.
DECODING_FLAGS = ("beam_size", "length_penalty", "max_length", "min_length", "block_ngram")


def add_data_arguments(parser) -> None:
    """``DATA --images DIR [--splits DIR] [--strict]``.

    Example:
        >>> import argparse
        >>> parser = argparse.ArgumentParser()
        >>> add_data_arguments(parser)
        >>> parser.parse_args(["c.json", "--images", "imgs"]).images
        'imgs'
    """
    parser.add_argument("data", metavar="DATA", help="captions: COCO/Karpathy .json, Flickr8k.token.txt or .csv")
    parser.add_argument("--images", required=True, metavar="DIR", help="folder the image file names are relative to")
    parser.add_argument("--splits", metavar="DIR", help="Flickr8k text folder with the official split lists")
    parser.add_argument("--strict", action="store_true",
                        help="refuse caption data that names missing photos (default: leave them out, with a count)")


def add_encoder_options(parser, *, encoder: str, encoder_help: str) -> None:
    """``--encoder`` (default ``encoder``), ``--weights`` and the small encoder's ``--image-size``,
    ``--conv-filters`` and ``--feature-dim`` (defaults: `CaptionerConfig`'s): the image encoder, on which
    ``extract-features`` and ``train --features`` must agree.

    Example:
        >>> import argparse
        >>> parser = argparse.ArgumentParser()
        >>> add_encoder_options(parser, encoder="small", encoder_help="the encoder")
        >>> args = parser.parse_args(["--conv-filters", "8,16"])
        >>> args.conv_filters, args.feature_dim, encoder_weights(args)
        ((8, 16), 4096, None)
    """
    parser.add_argument("--encoder", choices=ENCODERS, default=encoder, help=encoder_help)
    parser.add_argument("--weights", default=None, metavar="imagenet|FILE|none",
                        help="pretrained encoder weights: imagenet (the download; default), a local file, or none")
    parser.add_argument("--image-size", type=options.positive_int, default=DEFAULTS.image_size,
                        help=f"small encoder input side (default {DEFAULTS.image_size})")
    parser.add_argument("--conv-filters", type=options.positive_int_list, default=DEFAULTS.conv_filters,
                        metavar="N,N,...", help="small encoder: filters of each conv block (default "
                        f"{','.join(str(filters) for filters in DEFAULTS.conv_filters)})")
    parser.add_argument("--feature-dim", type=options.positive_int, default=DEFAULTS.feature_dim,
                        help=f"small encoder: length of the feature vector (default {DEFAULTS.feature_dim})")


def encoder_weights(args) -> str | None:
    """``--weights`` as the library takes it: ``imagenet`` unless given for a pretrained encoder, None for
    ``none`` and for the small encoder (trained from scratch).

    Example:
        >>> import argparse
        >>> encoder_weights(argparse.Namespace(encoder="vgg16", weights=None))
        'imagenet'
    """
    weights = args.weights if args.weights is not None else ("imagenet" if args.encoder != "small" else None)
    return None if weights in ("none", "None") else weights


def add_features_option(parser, help: str, old_spelling: bool = False) -> None:
    """``--features DIR``: the feature cache that ``extract-features`` fills and ``train`` reads; with
    ``old_spelling``, ``--cache`` (``extract-features``' earlier name) is its deprecated alias.

    Example:
        >>> import argparse
        >>> parser = argparse.ArgumentParser()
        >>> add_features_option(parser, "the cache")
        >>> parser.parse_args(["--features", "cache/"]).features
        'cache/'
    """
    parser.add_argument("--features", metavar="DIR", help=help)
    if old_spelling:
        options.add_deprecated_alias(parser, "--cache", "--features", "features")


def print_json(value) -> None:
    """Print ``value`` as indented JSON.

    Example:
        >>> print_json({"a": 1})
        {
          "a": 1
        }
    """
    print(json.dumps(value, indent=2))


def add_decoding_overrides(parser) -> None:
    """``--beam-size``, ``--length-penalty``, ``--max-length``, ``--min-length``, ``--block-ngram``: each
    overrides that decoding setting stored in the model (default: the stored one).

    Example:
        >>> import argparse
        >>> parser = argparse.ArgumentParser()
        >>> add_decoding_overrides(parser)
        >>> decoding_overrides(parser.parse_args(["--length-penalty", "0.5"]))
        {'length_penalty': 0.5}
    """
    stored = " (default: the model's stored setting)"
    parser.add_argument("--beam-size", type=options.positive_int, help="beam width, 1 = greedy" + stored)
    parser.add_argument("--length-penalty", type=options.non_negative_float, metavar="ALPHA",
                        help="beam score = log p / length ** ALPHA; 0 ranks by raw log-probability" + stored)
    parser.add_argument("--max-length", type=options.positive_int, metavar="WORDS",
                        help="most words per caption" + stored)
    parser.add_argument("--min-length", type=options.non_negative_int, metavar="WORDS",
                        help="fewest words per caption" + stored)
    parser.add_argument("--block-ngram", type=options.non_negative_int, metavar="N",
                        help="forbid any N-gram from repeating in a caption, 0 = off" + stored)


def decoding_overrides(args) -> dict:
    """``{setting: value}`` of the decoding flags given on the command line (absent ones are left out).

    Example:
        >>> import argparse
        >>> decoding_overrides(argparse.Namespace(beam_size=5, length_penalty=None, max_length=None))
        {'beam_size': 5}
    """
    return {name: getattr(args, name) for name in DECODING_FLAGS if getattr(args, name, None) is not None}


def load_captioner(model: str | None, args=None):
    """The captioner named by ``model`` (a ``.keras`` file, a preset's name or folder; None: the default preset),
    its stored decoding settings overridden by the decoding flags of ``args``; a bad flag value is refused (with
    the setting's range) before any image is read.

    Example:
        >>> import argparse, tempfile
        >>> from captioner.api import Captioner
        >>> from captioner.model import CaptionModel, fit_caption_vocabulary
        >>> model = CaptionModel.create(fit_caption_vocabulary(["a cat"], min_count=1),
        ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
        >>> path = Captioner(model).save(tempfile.mkdtemp() + "/model.keras")
        >>> load_captioner(str(path), argparse.Namespace(beam_size=5, length_penalty=None)).decoding.beam_size
        5
    """
    from captioner.api import Captioner
    from captioner.presets import DEFAULT_PRESET

    captioner = Captioner.from_preset(DEFAULT_PRESET if model is None else model)
    if args is not None:
        captioner.model.decoding = captioner.model.decoding.replace(**decoding_overrides(args))
    return captioner
