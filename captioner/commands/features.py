"""``captioner extract-features DATA --images DIR --cache DIR``: encode every image once into a resumable cache.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["extract-features", "c.json", "--images", "i", "--cache", "f"]).encoder
    'vgg16'
"""

from __future__ import annotations

from captioner.commands.common import add_data_arguments
from captioner.config import ENCODERS
from textmodels.commands.options import positive_int_list


def register(subparsers) -> None:
    """Adds ``extract-features``."""
    parser = subparsers.add_parser("extract-features", help="encode images into an on-disk feature cache")
    add_data_arguments(parser)
    parser.add_argument("--cache", required=True, metavar="DIR", help="cache folder (resumed when present)")
    parser.add_argument("--encoder", choices=ENCODERS, default="vgg16",
                        help="image encoder (default vgg16: fc2, 4096-d)")
    parser.add_argument("--weights", default="imagenet", metavar="imagenet|FILE|none",
                        help="pretrained encoder weights: imagenet (the download; default), a local file, or none")
    parser.add_argument("--image-size", type=int, default=64, help="small encoder input side")
    parser.add_argument("--conv-filters", type=positive_int_list, default=(16, 32, 64), metavar="N,N,...",
                        help="small encoder blocks")
    parser.add_argument("--feature-dim", type=int, default=4096)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rebuild", action="store_true", help="discard a cache made with other settings")
    parser.add_argument("--quiet", action="store_true")
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Fills the cache; prints how many images were encoded and which could not be read (exit 1 if any)."""
    import sys

    from captioner.commands.common import read_caption_data
    from captioner.encoder import FeatureCache, build_encoder, encoder_config, extract_features

    weights = None if args.weights in ("none", "None") else args.weights
    config = encoder_config(args.encoder, image_size=args.image_size, conv_filters=args.conv_filters,
                            feature_dim=args.feature_dim, weights=weights)
    records = read_caption_data(args.data, args.images, args.splits, strict=args.strict)
    ids = list(dict.fromkeys(record.image_id for record in records))
    cache = FeatureCache(args.cache, ids, config["feature_dim"], config,
                         on_mismatch="rebuild" if args.rebuild else "raise")
    pending = len(cache.missing_ids())
    encoder = build_encoder(config)
    side = config["image_size"]
    errors = extract_features(lambda batch: encoder(batch, training=False), records, cache,
                              batch_size=args.batch_size, image_size=(side, side), progress=not args.quiet)
    for image_id, message in errors.items():
        print(f"{image_id}\terror: {message}", file=sys.stderr)
    print(f"{pending - len(errors)} image(s) encoded, {len(ids) - pending} already cached, "
          f"{len(errors)} unreadable -> {args.cache}")
    return 1 if errors else 0
