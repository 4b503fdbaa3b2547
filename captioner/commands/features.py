"""``captioner extract-features DATA --images DIR --features DIR``: encode every image once into a resumable
feature cache, which ``captioner train --features DIR`` reads.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> args = parser.parse_args(["extract-features", "c.json", "--images", "i", "--features", "f"])
    >>> args.features, args.encoder, args.batch_size
    ('f', 'vgg16', 32)
"""

from __future__ import annotations

from captioner.commands.common import (
    DEFAULTS,
    add_data_arguments,
    add_encoder_options,
    add_features_option,
    encoder_weights,
)
from textmodels.commands import options


def register(subparsers) -> None:
    """Adds ``extract-features``."""
    parser = subparsers.add_parser("extract-features", help="encode images into an on-disk feature cache")
    add_data_arguments(parser)
    add_features_option(parser, "the feature cache folder to fill (resumed when present; required)",
                        old_spelling=True)
    # Not the configuration's "small": features of an encoder that has not learnt yet are worth no caching.
    add_encoder_options(parser, encoder="vgg16", encoder_help="image encoder (default vgg16: fc2, 4096-d)")
    parser.add_argument("--batch-size", type=options.positive_int, default=DEFAULTS.batch_size,
                        help=f"images encoded together (default {DEFAULTS.batch_size})")
    parser.add_argument("--rebuild", action="store_true", help="discard a cache made with other settings")
    options.add_distribute_option(parser)
    options.add_quiet_option(parser)
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Fills the cache; prints how many images were encoded and which could not be read (exit 1 if any).

    ``--distribute multi-worker``: each worker encodes its share of the photos and the chief merges them
    (`captioner.encoder.sharded_extraction`); ``mirrored`` / ``data-parallel`` split each batch over this
    machine's devices."""
    import contextlib
    import sys

    import keras

    from captioner.data.caption_files import read_caption_data
    from captioner.encoder import build_encoder, encoder_config
    from captioner.encoder.sharded_extraction import extract_shards, open_shared_cache
    from textmodels.training.distribution import select_distribution

    features = options.required(args, "features", "--features DIR")
    # First: a multi-worker strategy must exist before any other TensorFlow work.
    distribution = select_distribution(args.distribute)
    config = encoder_config(args.encoder, image_size=args.image_size, conv_filters=args.conv_filters,
                            feature_dim=args.feature_dim, weights=encoder_weights(args))
    records = read_caption_data(args.data, args.images, args.splits, strict=args.strict)
    ids = list(dict.fromkeys(record.image_id for record in records))
    cache = open_shared_cache(distribution, features, ids, config["feature_dim"], config,
                              on_mismatch="rebuild" if args.rebuild else "raise")
    pending = len(cache.missing_ids())
    spread = distribution.num_workers == 1 and distribution.num_replicas > 1
    # Seeded: every worker builds the same encoder, also an untrained one (--weights none).
    keras.utils.set_random_seed(0)
    with distribution.scope() if spread else contextlib.nullcontext():
        encoder = build_encoder(config)

    def encode(batch):
        if spread and len(batch) % distribution.num_replicas == 0:
            return encoder.predict(batch, batch_size=len(batch), verbose=0)  # split over this machine's devices
        # One device, or workers that encode different photos (a collective among them would wait forever).
        return encoder(batch, training=False)

    side = config["image_size"]
    errors = extract_shards(encode, records, cache, distribution, batch_size=args.batch_size,
                            image_size=(side, side), progress=not args.quiet)
    for image_id, message in errors.items():
        print(f"{image_id}\terror: {message}", file=sys.stderr)
    if not distribution.is_chief:
        print(f"Worker {distribution.worker_index} of {distribution.num_workers} done ({len(errors)} unreadable); "
              f"the chief merged its features into {features}.")
        return 1 if errors else 0
    unreadable = len(cache.missing_ids())
    print(f"{pending - unreadable} image(s) encoded, {len(ids) - pending} already cached, "
          f"{unreadable} unreadable -> {features}")
    return 1 if unreadable else 0
