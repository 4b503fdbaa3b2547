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

from captioner.commands.common import add_data_arguments, add_encoder_options, add_features_option, encoder_weights
from captioner.config import CaptionerConfig
from textmodels.commands import options

INJECT_CHOICES = ("first_step", "init_state", "pre_inject", "par_inject", "merge")
# Every default of the command is the configuration's own.
DEFAULTS = CaptionerConfig()


def register(subparsers) -> None:
    """Adds ``train``."""
    parser = subparsers.add_parser(
        "train", help="train a captioner and save it as one .keras file",
        description="Train a captioner with a checkpoint after every epoch in --run-dir (continue with --resume), "
        "TensorBoard logs beside them, and the best epoch written to --out.",
    )
    add_data_arguments(parser)
    add_encoder_options(parser, encoder=DEFAULTS.encoder,
                        encoder_help="small (trained from scratch; default) or a pretrained keras.applications network")
    add_features_option(parser, "train the decoder on the feature cache of `captioner extract-features` (same "
                        "encoder settings)")
    parser.add_argument("--freeze-encoder", action="store_true", help="end to end, but keep the encoder fixed")
    parser.add_argument("--concept-epochs", type=options.non_negative_int, default=DEFAULTS.concept_epochs,
                        metavar="N",
                        help="first teach the small encoder, for at most N epochs, which words its photos' captions "
                        "use (what keeps it from ignoring real photos; docs/captioning.md, Training); default "
                        f"{DEFAULTS.concept_epochs}: none")
    options.add_network_options(parser, cell=DEFAULTS.cell, units=DEFAULTS.units, layers=DEFAULTS.layers,
                                embedding_dim=DEFAULTS.embedding_dim, dropout=DEFAULTS.dropout,
                                cells=("simple", "gru", "lstm"))
    parser.add_argument("--inject", choices=INJECT_CHOICES, default=DEFAULTS.inject,
                        help="how the image reaches the decoder: first_step (added to step 0's input), init_state "
                        "(the initial state), pre_inject (a word before <bos>), par_inject (beside every word), "
                        f"merge (beside the decoder's output); default {DEFAULTS.inject}")
    parser.add_argument("--image-blind", action="store_true", help="train the image-blind baseline")
    parser.add_argument("--min-count", type=options.positive_int, default=DEFAULTS.min_count,
                        help=f"rarer words become <unk> (default {DEFAULTS.min_count})")
    parser.add_argument("--max-length", type=options.positive_int, default=DEFAULTS.max_length,
                        help=f"longest caption kept, in words (default {DEFAULTS.max_length})")
    options.add_run_options(parser, epochs=DEFAULTS.epochs, batch_size=DEFAULTS.batch_size,
                            patience=DEFAULTS.patience or 0, seed=DEFAULTS.seed)
    options.add_optimizer_options(parser, optimizer=DEFAULTS.optimizer, learning_rate=DEFAULTS.learning_rate,
                                  clipnorm=DEFAULTS.clipnorm)
    parser.add_argument("--lr-reduce-factor", type=options.open_fraction, default=DEFAULTS.lr_reduce_factor,
                        metavar="F",
                        help="multiply the learning rate by F when val_loss stalls (default: constant rate)")
    parser.add_argument("--lr-reduce-patience", type=options.positive_int, default=DEFAULTS.lr_reduce_patience,
                        metavar="N",
                        help=f"epochs without improvement before the rate is reduced (default "
                        f"{DEFAULTS.lr_reduce_patience})")
    options.add_distribute_option(parser)
    options.add_quiet_option(parser)
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
    return CaptionerConfig(
        encoder=args.encoder, weights=encoder_weights(args), image_size=args.image_size, conv_filters=args.conv_filters,
        feature_dim=args.feature_dim, train_encoder=not args.freeze_encoder, concept_epochs=args.concept_epochs,
        embedding_dim=args.embedding_dim, units=args.units, cell=args.cell,
        layers=args.layers, inject=args.inject, dropout=args.dropout, image_blind=args.image_blind,
        min_count=args.min_count, max_length=args.max_length, batch_size=args.batch_size, epochs=args.epochs,
        optimizer=args.optimizer, learning_rate=args.learning_rate, lr_reduce_factor=args.lr_reduce_factor,
        lr_reduce_patience=args.lr_reduce_patience, clipnorm=options.clipnorm(args), patience=options.patience(args),
        seed=args.seed,
    )


def run(args) -> int:
    """Trains, saves the best epoch to ``--out`` and prints the final losses."""
    from captioner.data.caption_files import read_caption_data
    from captioner.training import config_encoder, train_captioner
    from textmodels.commands.runs import provenance, start_training, worker_is_chief

    distribution = start_training(args)
    config = config_from_args(args)
    records = read_caption_data(args.data, args.images, args.splits, strict=args.strict)
    features = None
    if args.features:
        from captioner.encoder import FeatureCache

        encoder = config_encoder(config)
        ids = list(dict.fromkeys(record.image_id for record in records))
        # Images without stored features (unreadable photos) are left out by train_captioner, with a count.
        features = FeatureCache(args.features, ids, encoder["feature_dim"], encoder)
    result = train_captioner(records, config, features=features, run_dir=args.run_dir, out=args.out,
                             resume=args.resume, verbose=0 if args.quiet else 2, distribution=distribution)
    if not worker_is_chief(args, distribution):
        return 0
    concepts = result.concept_pretraining
    if concepts is not None:
        epochs = f"{concepts.epochs} epoch{'' if concepts.epochs == 1 else 's'}"
        print(f"concept pretraining: {epochs}, best loss {concepts.loss:.4f} against "
              f"{concepts.prior_loss:.4f} for the words' frequencies alone"
              + ("" if concepts.val_auc is None else f", validation AUC {concepts.val_auc:.3f}"))
    losses = {key: round(values[-1], 4) for key, values in result.history.items() if values}
    print(f"saved {args.out} ({provenance(result)}; epochs: {len(result.history.get('loss', []))}, final {losses})")
    return 0
