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
