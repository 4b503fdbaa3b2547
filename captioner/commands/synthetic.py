"""``captioner make-synthetic OUT_DIR``: the coloured-shapes dataset (PNG images + COCO caption JSON).

Example:
    >>> import argparse
    >>> subparsers = argparse.ArgumentParser().add_subparsers()
    >>> register(subparsers)
"""

from __future__ import annotations


def register(subparsers) -> None:
    """Adds ``make-synthetic``."""
    from captioner.data.synthetic import WORD_ORDERS

    parser = subparsers.add_parser("make-synthetic", help="write the synthetic shapes caption dataset")
    parser.add_argument("out_dir", metavar="OUT_DIR")
    parser.add_argument("--num-images", type=int, default=1000)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--word-order", choices=WORD_ORDERS, default="reading",
                        help="reading: every caption names the upper or left object first; "
                             "any: also the other object first (a harder task)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Writes the dataset and prints the caption file's path."""
    from captioner.data import make_synthetic

    path = make_synthetic(args.out_dir, num_images=args.num_images, image_size=args.image_size, seed=args.seed,
                          word_order=args.word_order)
    print(path)
    return 0
