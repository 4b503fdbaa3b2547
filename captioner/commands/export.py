"""``captioner export MODEL.keras --out-dir DIR``: a TensorFlow SavedModel that captions encoded images by itself.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> args = parser.parse_args(["export", "model.keras", "--out-dir", "exported/", "--beam-size", "5"])
    >>> args.out_dir, args.beam_size, args.num_captions
    ('exported/', 5, None)
"""

from __future__ import annotations

from captioner.serving.settings import ServingSettings
from textmodels.commands import options
from textmodels.errors import ConfigurationError

_DEFAULTS = ServingSettings()


def register(subparsers) -> None:
    """Adds ``export``."""
    parser = subparsers.add_parser(
        "export", help="write a TensorFlow SavedModel: image bytes in, captions and scores out (no Python needed)")
    parser.add_argument("model", metavar="MODEL.keras", help="the captioner to export")
    options.add_out_dir_option(parser, "folder for the SavedModel (replaced if it holds one; required)",
                               old_positional=True)
    parser.add_argument("--beam-size", type=int, default=3, help="beam width of the exported search (1 = greedy)")
    parser.add_argument("--num-captions", type=int, default=None,
                        help="captions returned per image, best first (default: the beam width)")
    parser.add_argument("--max-pixels", type=int, default=_DEFAULTS.max_pixels,
                        help="largest image the SavedModel decodes, width x height (bigger: refused from the header)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Exports and prints where the SavedModel went and how to call it."""
    from captioner.export.saved_model import SIGNATURE_NAME, export_saved_model

    out_dir = options.required(args, "out_dir", "--out-dir DIR")
    if args.beam_size < 1:
        raise ConfigurationError(f"--beam-size must be at least 1, got {args.beam_size}.")
    num_captions = args.beam_size if args.num_captions is None else args.num_captions
    out_dir = export_saved_model(args.model, out_dir, beam_size=args.beam_size, num_captions=num_captions,
                                 max_pixels=args.max_pixels)
    print(f"saved {out_dir}: signature '{SIGNATURE_NAME}', images (N,) string -> captions, scores, log_probs "
          f"(N, {num_captions})")
    return 0
