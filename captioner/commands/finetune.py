"""``captioner finetune MODEL DATA --images DIR --reward cider --out M2.keras``: self-critical fine-tuning of a
cross-entropy captioner (`captioner.self_critical`).

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> args = parser.parse_args(["finetune", "m.keras", "c.json", "--images", "imgs", "--out", "m2.keras"])
    >>> args.reward, args.samples, args.baseline, args.learning_rate, args.reward_eos
    ('cider', 5, 'greedy', 0.0005, True)
"""

from __future__ import annotations

import argparse

from captioner.commands.common import add_data_arguments
from captioner.self_critical_config import BASELINES, REWARDS, SelfCriticalConfig
from textmodels.commands import options

# Every default of the command is the configuration's own.
DEFAULTS = SelfCriticalConfig()


def register(subparsers) -> None:
    """Adds ``finetune``."""
    parser = subparsers.add_parser(
        "finetune", help="self-critical fine-tuning: raise a trained captioner's CIDEr-D",
        description="Fine-tune a captioner trained by `captioner train` on the CIDEr-D of its own sampled captions "
        "(self-critical sequence training), keeping the epoch with the best validation CIDEr-D of greedy captions; "
        "a checkpoint after every epoch in --run-dir (continue with --resume).",
    )
    parser.add_argument("model", metavar="MODEL", help="the captioner to start from (.keras, from `captioner train`)")
    add_data_arguments(parser)
    parser.add_argument("--features", metavar="CACHE_DIR",
                        help="features from `captioner extract-features` with the model's encoder (default: the "
                        "model's encoder computes them once)")
    parser.add_argument("--reward", choices=REWARDS, default=DEFAULTS.reward,
                        help="cider: CIDEr-D against the photo's references, document frequencies of the training "
                        "references (default)")
    parser.add_argument("--reward-eos", action=argparse.BooleanOptionalAction, default=DEFAULTS.reward_eos,
                        help="count the end token in the reward (default: yes)")
    parser.add_argument("--samples", type=options.positive_int, default=DEFAULTS.samples,
                        help=f"captions sampled per photo (default {DEFAULTS.samples})")
    parser.add_argument("--baseline", choices=BASELINES, default=DEFAULTS.baseline,
                        help="greedy: the reward of the photo's greedy caption (default); mean: the mean reward of "
                        "the photo's other samples")
    options.add_run_options(parser, epochs=DEFAULTS.epochs, batch_size=DEFAULTS.batch_size,
                            patience=DEFAULTS.patience or 0, seed=DEFAULTS.seed,
                            criterion="validation CIDEr-D (greedy captions)")
    options.add_optimizer_options(parser, learning_rate=DEFAULTS.learning_rate, clipnorm=DEFAULTS.clipnorm)
    options.add_quiet_option(parser)
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Fine-tunes, saves the best epoch to ``--out`` and prints the validation CIDEr-D of every epoch."""
    from captioner.api import CaptionerLoadError
    from captioner.data.caption_files import read_caption_data
    from captioner.model import CaptionModel
    from captioner.self_critical import check_self_critical_config, finetune_self_critical
    from textmodels.commands.runs import provenance
    from textmodels.saving import load_model
    from textmodels.training import run_directory_for

    config = SelfCriticalConfig(
        reward=args.reward, epochs=args.epochs, batch_size=args.batch_size, samples=args.samples,
        baseline=args.baseline, learning_rate=args.learning_rate, optimizer=args.optimizer,
        clipnorm=options.clipnorm(args), reward_eos=args.reward_eos, patience=options.patience(args), seed=args.seed,
    )
    check_self_critical_config(config)  # before anything is read or loaded
    run_directory_for(args.out)  # a --out that is no .keras file is refused before anything is read too
    model = load_model(args.model, [CaptionModel], "a captioner", compile=False, error=CaptionerLoadError)
    records = read_caption_data(args.data, args.images, args.splits, strict=args.strict)
    features = None
    if args.features:
        from captioner.encoder import FeatureCache

        ids = list(dict.fromkeys(record.image_id for record in records))
        # The model's own encoder description: a cache made with another encoder does not match and is refused.
        features = FeatureCache(args.features, ids, model.feature_dim, model.encoder_config)
    result = finetune_self_critical(model, records, config, features=features, run_dir=args.run_dir, out=args.out,
                                    resume=args.resume, progress=not args.quiet)
    scores = ", ".join(f"{value:.4f}" for value in result.history.get("val_cider", []))
    print(f"saved {args.out} ({provenance(result)}; validation CIDEr-D per epoch: {scores})")
    return 0
