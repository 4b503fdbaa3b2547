"""``textmodels train-tagger`` and ``tag`` (``evaluate`` on a tagger: `textmodels.commands.evaluate`).

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["tag", "pos.keras", "The dog barks ."]).texts
    ['The dog barks .']
"""

from __future__ import annotations

import sys

from textmodels.commands import options
from textmodels.commands.runs import fit_in_run, provenance, start_training, worker_is_chief
from textmodels.commands.text_inputs import add_text_arguments, answer_texts
from textmodels.errors import ConfigurationError
from textmodels.tagging.config import TAGGER_DEFAULTS as DEFAULTS


def register(subparsers) -> None:
    """Adds the tagger subcommands to an argparse ``subparsers`` object."""
    train = subparsers.add_parser(
        "train-tagger",
        help="train a bidirectional recurrent part-of-speech tagger on a Penn Treebank sample",
        description="Split the treebank by FILE (train / validation / held-out test), train with early "
        "stopping and per-epoch checkpoints, write the best model to --out and report held-out accuracy.",
    )
    train.add_argument("treebank", help="NLTK's treebank.zip or an extracted treebank folder")
    train.add_argument("--test-files", type=options.positive_int, default=20,
                       help="the last N files are held out (default 20)")
    train.add_argument("--val-files", type=options.non_negative_int, default=10,
                       help="the N files before those validate (default 10)")
    options.add_network_options(train, cell=DEFAULTS.cell, units=DEFAULTS.units, layers=DEFAULTS.layers,
                                embedding_dim=DEFAULTS.embedding_dim, dropout=DEFAULTS.dropout)
    train.set_defaults(embedding_dim=None)  # as SequenceTagger's: None is TAGGER_DEFAULTS.embedding_dim
    train.add_argument("--min-count", type=options.positive_int, default=DEFAULTS.min_count,
                       help=f"rarer words become <unk> (default {DEFAULTS.min_count})")
    options.add_run_options(train, epochs=DEFAULTS.epochs, batch_size=DEFAULTS.batch_size,
                            patience=DEFAULTS.patience or 0)
    options.add_optimizer_options(train, optimizer=DEFAULTS.optimizer, learning_rate=DEFAULTS.learning_rate,
                                  clipnorm=DEFAULTS.clipnorm)
    options.add_distribute_option(train)
    options.add_quiet_option(train)
    train.set_defaults(handler=train_tagger)

    tag = subparsers.add_parser(
        "tag",
        help="tag texts with a trained tagger (token/TAG output)",
        description="Print one line per input, each token as token/TAG. Texts come from the arguments, "
        "--file, or standard input.",
    )
    tag.add_argument("model", help="a model written by train-tagger")
    add_text_arguments(tag, "tag")
    tag.set_defaults(handler=tag_texts)


def split_files(fileids: list[str], test_files: int, val_files: int) -> tuple[list[str], list[str], list[str]]:
    """(train, validation, test) file ids: the last ``test_files`` are test, the ``val_files`` before them
    validation, the rest training.

    Example:
        >>> split_files([f"f{i}" for i in range(6)], test_files=2, val_files=1)
        (['f0', 'f1', 'f2'], ['f3'], ['f4', 'f5'])
    """
    if test_files < 1 or val_files < 0 or test_files + val_files >= len(fileids):
        raise ConfigurationError(
            f"Cannot hold out {test_files} test and {val_files} validation files of {len(fileids)}: "
            f"training needs at least one file."
        )
    cut = len(fileids) - test_files
    return fileids[: cut - val_files], fileids[cut - val_files : cut], fileids[cut:]


def train_tagger(args) -> int:
    """``textmodels train-tagger TREEBANK --out MODEL.keras ...``: split by file, train, report held-out accuracy.

    Example::

        main(["train-tagger", "../shared/data/nltk/treebank.zip", "--out", "pos.keras", "--epochs", "10"])
    """
    from textmodels.data import read_treebank_pos, treebank_fileids
    from textmodels.tagging.sequence_tagger import SequenceTagger

    distribution = start_training(args)
    train_ids, val_ids, test_ids = split_files(treebank_fileids(args.treebank), args.test_files, args.val_files)
    train = read_treebank_pos(args.treebank, train_ids)
    validation = read_treebank_pos(args.treebank, val_ids) if val_ids else None
    test = read_treebank_pos(args.treebank, test_ids)
    if not args.quiet:
        print(f"{len(train)} training sentences ({len(train_ids)} files), "
              f"{len(validation or [])} validation ({len(val_ids)}), {len(test)} held-out ({len(test_ids)}).",
              file=sys.stderr)

    tagger = SequenceTagger(
        embedding_dim=args.embedding_dim, units=args.units, cell=args.cell, layers=args.layers, dropout=args.dropout,
        min_count=args.min_count, optimizer=args.optimizer, learning_rate=args.learning_rate,
        clipnorm=options.clipnorm(args), batch_size=args.batch_size,
    )
    trained = fit_in_run(tagger, train, validation, args, distribution)
    if not worker_is_chief(args, distribution):
        return 0
    report = SequenceTagger.load(args.out).evaluate(test)
    print(f"Wrote {args.out} ({provenance(trained)}); held-out token accuracy {report['accuracy']:.4f} "
          f"on {report['tokens']} tokens of {len(test_ids)} files "
          f"(unknown words: {report['unknown_accuracy'] or 0:.4f} of {report['unknown_tokens']}).")
    return 0


def tag_texts(args) -> int:
    """``textmodels tag MODEL.keras TEXT ... [--file F] [--json]``: token/TAG lines; exit code 1 if a line failed.

    Example::

        main(["tag", "pos.keras", "The dog barks ."])
    """
    from textmodels.tagging.sequence_tagger import SequenceTagger

    tagger = SequenceTagger.load(args.model)

    def respond(texts) -> list[dict]:
        return [{"tokens": [list(pair) for pair in pairs], "error": None if pairs else "empty text: no tokens to tag"}
                for pairs in tagger.tag(texts)]

    return answer_texts(args, respond, {"tokens": []},
                        lambda record: " ".join(f"{token}/{tag}" for token, tag in record["tokens"]))
