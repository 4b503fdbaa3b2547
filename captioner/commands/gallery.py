"""``captioner gallery MODEL DATA --images DIR --out-dir DIR``: photos with their captions, as HTML and a PNG
sheet.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> args = parser.parse_args(["gallery", "m.keras", "c.json", "--images", "i", "--out-dir", "g"])
    >>> args.out_dir, args.split, args.count, args.blind
    ('g', 'test', 12, None)
"""

from __future__ import annotations

from captioner.commands.common import add_data_arguments, add_decoding_overrides, decoding_overrides
from captioner.errors import CaptionDataError
from textmodels.commands import options


def register(subparsers) -> None:
    """Adds ``gallery``."""
    parser = subparsers.add_parser("gallery", help="render photos with their captions (HTML page + PNG sheet)")
    parser.add_argument("model", metavar="MODEL", help="the captioner: a .keras file or a preset's name")
    add_data_arguments(parser)
    options.add_out_dir_option(parser, "folder for index.html and contact_sheet.png (required)", old_option="--out")
    parser.add_argument("--split", default="test", help="which photos (default: test)")
    parser.add_argument("--count", type=options.positive_int, default=12, help="how many photos (default 12)")
    parser.add_argument("--blind", metavar="BLIND.keras", help="an image-blind baseline to show beside")
    add_decoding_overrides(parser)
    parser.add_argument("--columns", type=options.positive_int, default=4,
                        help="photos per row of the contact sheet (default 4)")
    parser.add_argument("--title", default=None, help="page title (default: the model file name)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Writes the gallery and prints where."""
    from pathlib import Path

    from captioner.api import Captioner
    from captioner.commands.common import load_captioner
    from captioner.data.caption_files import read_caption_data
    from captioner.gallery import gallery_items, write_gallery

    out_dir = options.required(args, "out_dir", "--out-dir DIR")
    model = load_captioner(args.model).model
    # The decoding flags apply to both models alike; each keeps its own stored settings otherwise.
    blind = Captioner.load(args.blind).model if args.blind else None
    records = [record for record in read_caption_data(args.data, args.images, args.splits, strict=args.strict)
               if record.split == args.split]
    if not records:
        raise CaptionDataError(f"No photos in split {args.split!r} of {args.data}.")
    items = gallery_items(model, records, count=args.count, blind=blind, **decoding_overrides(args))
    html, sheet = write_gallery(items, out_dir, title=args.title or Path(args.model).name, columns=args.columns)
    print(f"{len(items)} photos -> {html} and {sheet}")
    return 0
