"""``captioner export [MODEL] --out-dir DIR``: a TensorFlow SavedModel that captions encoded images by itself.

MODEL is a ``.keras`` file or a preset's name (default: the default preset). The SavedModel's in-graph search
decodes with the model's stored settings, each overridable by its flag.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> args = parser.parse_args(["export", "model.keras", "--out-dir", "exported/", "--beam-size", "5"])
    >>> args.out_dir, args.beam_size, args.num_captions
    ('exported/', 5, None)
    >>> parser.parse_args(["export", "--out-dir", "exported/"]).model is None
    True
"""

from __future__ import annotations

from captioner.commands.common import add_decoding_overrides
from captioner.serving.settings import ServingSettings
from textmodels.commands import options

_DEFAULTS = ServingSettings()


def register(subparsers) -> None:
    """Adds ``export``."""
    parser = subparsers.add_parser(
        "export", help="write a TensorFlow SavedModel: image bytes in, captions and scores out (no Python needed)")
    parser.add_argument("model", nargs="?", default=None, metavar="MODEL",
                        help="a .keras file or a preset's name (default: the default preset)")
    options.add_out_dir_option(parser, "folder for the SavedModel (replaced if it holds one; required)",
                               old_positional=True)
    add_decoding_overrides(parser)
    parser.add_argument("--num-captions", type=options.positive_int, default=None,
                        help="captions returned per image, best first (default: the beam width)")
    parser.add_argument("--max-pixels", type=int, default=_DEFAULTS.max_pixels,
                        help="largest image the SavedModel decodes, width x height (bigger: refused from the header)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Exports and prints where the SavedModel went and how to call it."""
    from captioner.commands.common import load_captioner
    from captioner.export.saved_model import SIGNATURE_NAME, export_saved_model

    out_dir = options.required(args, "out_dir", "--out-dir DIR")
    model = load_captioner(args.model, args).model
    num_captions = model.decoding.beam_size if args.num_captions is None else args.num_captions
    out_dir = export_saved_model(model, out_dir, num_captions=num_captions, max_pixels=args.max_pixels)
    print(f"saved {out_dir}: signature '{SIGNATURE_NAME}', images (N,) string -> captions, scores, log_probs "
          f"(N, {num_captions})")
    return 0
