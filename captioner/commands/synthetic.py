"""``captioner make-synthetic --out-dir DIR``: the coloured-shapes dataset (PNG images + COCO caption JSON).

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> args = parser.parse_args(["make-synthetic", "--out-dir", "shapes", "--seed", "3"])
    >>> args.out_dir, args.num_images, args.seed
    ('shapes', 2000, 3)
"""

from __future__ import annotations

from textmodels.commands import options


def register(subparsers) -> None:
    """Adds ``make-synthetic``."""
    from captioner.data.synthetic import WORD_ORDERS, make_synthetic

    defaults = options.defaults_of(make_synthetic)
    parser = subparsers.add_parser("make-synthetic", help="write the synthetic shapes caption dataset")
    options.add_out_dir_option(parser, "folder for the images and captions.json (required)", old_positional=True)
    parser.add_argument("--num-images", type=options.positive_int, default=defaults["num_images"],
                        help=f"how many images (default {defaults['num_images']})")
    parser.add_argument("--image-size", type=options.positive_int, default=defaults["image_size"],
                        help=f"side of the square images, in pixels (default {defaults['image_size']})")
    parser.add_argument("--seed", type=int, default=defaults["seed"],
                        help=f"seed of the shapes, colours and positions (default {defaults['seed']})")
    parser.add_argument("--word-order", choices=WORD_ORDERS, default=defaults["word_order"],
                        help="reading: every caption names the upper or left object first; "
                             "any: also the other object first (a harder task)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Writes the dataset and prints the caption file's path."""
    from captioner.data import make_synthetic

    out_dir = options.required(args, "out_dir", "--out-dir DIR")
    path = make_synthetic(out_dir, num_images=args.num_images, image_size=args.image_size, seed=args.seed,
                          word_order=args.word_order)
    print(path)
    return 0
