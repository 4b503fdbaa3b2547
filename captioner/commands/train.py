"""``captioner train DATA --images DIR --out MODEL.keras``: train a captioner end to end or on cached features.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> args = parser.parse_args(["train", "c.json", "--images", "imgs", "--out", "m.keras", "--inject", "merge"])
    >>> args.inject, args.encoder, args.epochs
    ('merge', 'small', 20)
"""

from __future__ import annotations

from pathlib import Path

from captioner.commands.common import add_data_arguments
from captioner.config import ENCODERS

INJECT_CHOICES = ("first_step", "init_state", "pre_inject", "par_inject", "merge")


def register(subparsers) -> None:
    """Adds ``train``."""
    parser = subparsers.add_parser("train", help="train a captioner and save it as one .keras file")
    add_data_arguments(parser)
    parser.add_argument("--out", required=True, metavar="MODEL.keras")
    parser.add_argument("--encoder", choices=ENCODERS, default="small",
                        help="small (trained from scratch; default) or a pretrained keras.applications network")
    parser.add_argument("--weights", default=None, metavar="imagenet|FILE|none",
                        help="pretrained encoder weights: imagenet (the download; default), a local file, or none")
    parser.add_argument("--features", metavar="CACHE_DIR",
                        help="train the decoder on features from `captioner extract-features` (same encoder)")
    parser.add_argument("--freeze-encoder", action="store_true", help="end to end, but keep the encoder fixed")
    parser.add_argument("--image-size", type=int, default=64, help="small encoder input side (default 64)")
    parser.add_argument("--conv-filters", default="16,32,64", metavar="N,N,...",
                        help="small encoder: filters of each conv block (default 16,32,64)")
    parser.add_argument("--feature-dim", type=int, default=4096)
    parser.add_argument("--cell", choices=("simple", "gru", "lstm"), default="lstm")
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--inject", choices=INJECT_CHOICES, default="first_step")
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--image-blind", action="store_true", help="train the image-blind baseline")
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--max-length", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--optimizer", choices=("adam", "sgd", "rmsprop"), default="adam")
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--lr-reduce-factor", type=float, default=None, metavar="F",
                        help="multiply the learning rate by F when val_loss stalls (default: constant rate)")
    parser.add_argument("--lr-reduce-patience", type=int, default=1, metavar="N",
                        help="epochs without improvement before the rate is reduced (default 1)")
    parser.add_argument("--clipnorm", type=float, default=5.0)
    parser.add_argument("--patience", type=int, default=3, help="early stopping on val_loss (0: off)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint-dir", metavar="DIR", help="checkpoints and TensorBoard logs (default: OUT.run)")
    parser.add_argument("--resume", action="store_true", help="continue the run in the checkpoint folder")
    parser.add_argument("--quiet", action="store_true")
    parser.set_defaults(handler=run)


def config_from_args(args):
    """The `CaptionerConfig` the parsed arguments describe.

    Example:
        >>> import argparse
        >>> parser = argparse.ArgumentParser()
        >>> register(parser.add_subparsers())
        >>> config_from_args(parser.parse_args(["train", "d.json", "--images", "i", "--out", "m.keras"])).cell
        'lstm'
    """
    from captioner.config import CaptionerConfig

    weights = args.weights if args.weights is not None else ("imagenet" if args.encoder != "small" else None)
    weights = None if weights in ("none", "None") else weights
    try:
        conv_filters = tuple(int(part) for part in args.conv_filters.split(","))
    except ValueError:
        raise ValueError(f"--conv-filters must be comma-separated integers, got {args.conv_filters!r}.") from None
    return CaptionerConfig(
        encoder=args.encoder, weights=weights, image_size=args.image_size, conv_filters=conv_filters,
        feature_dim=args.feature_dim,
        train_encoder=not args.freeze_encoder, embedding_dim=args.embedding_dim, units=args.units, cell=args.cell,
        layers=args.layers, inject=args.inject, dropout=args.dropout, image_blind=args.image_blind,
        min_count=args.min_count, max_length=args.max_length, batch_size=args.batch_size, epochs=args.epochs,
        optimizer=args.optimizer, learning_rate=args.learning_rate, lr_reduce_factor=args.lr_reduce_factor,
        lr_reduce_patience=args.lr_reduce_patience, clipnorm=args.clipnorm,
        patience=args.patience or None, seed=args.seed,
    )


def run(args) -> int:
    """Trains, saves ``--out`` and prints the final losses."""
    from captioner.commands.common import read_caption_data
    from captioner.training import config_encoder, train_captioner

    config = config_from_args(args)
    records = read_caption_data(args.data, args.images, args.splits, strict=args.strict)
    features = None
    if args.features:
        from captioner.encoder import FeatureCache

        encoder = config_encoder(config)
        ids = list(dict.fromkeys(record.image_id for record in records))
        # Images without stored features (unreadable photos) are left out by train_captioner, with a count.
        features = FeatureCache(args.features, ids, encoder["feature_dim"], encoder)
    out = Path(args.out)
    checkpoint_dir = Path(args.checkpoint_dir) if args.checkpoint_dir else out.with_suffix(".run")
    result = train_captioner(records, config, features=features, checkpoint_dir=checkpoint_dir,
                             resume=args.resume, out=out, verbose=0 if args.quiet else 2)
    losses = {key: round(values[-1], 4) for key, values in result.history.items() if values}
    print(f"saved {out} (epochs: {len(result.history.get('loss', []))}, final {losses})")
    return 0
