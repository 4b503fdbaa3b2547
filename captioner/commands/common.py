"""Argument helpers shared by the captioner subcommands: the caption data and the feature cache.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_data_arguments(parser)
    >>> parser.parse_args(["c.json", "--images", "imgs"]).data
    'c.json'
"""

from __future__ import annotations

import json

from textmodels.commands import options

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
    from textmodels.commands.options import add_deprecated_alias

    parser.add_argument("--features", metavar="DIR", help=help)
    if old_spelling:
        add_deprecated_alias(parser, "--cache", "--features", "features")


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
