"""``textmodels train-classifier`` and ``classify``.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["classify", "m.keras", "great film", "--json"]).json
    True
"""

from __future__ import annotations

import sys

from textmodels.commands import options
from textmodels.commands.labeled_data import add_table_options, read_labeled_data
from textmodels.commands.runs import open_run, train_in_run, worker_is_chief
from textmodels.commands.text_inputs import add_text_arguments, answer_texts

POOLING = ("last", "mean", "max", "topk", "attention")  # textmodels.classification.text_rnn, without Keras


def register(subparsers) -> None:
    """Adds the classifier subcommands to an argparse ``subparsers`` object."""
    train = subparsers.add_parser(
        "train-classifier",
        help="train a TextRNN / TextCNN text classifier",
        description="Train a text classifier with a progress bar, early stopping on validation data, a "
        "checkpoint after every epoch in --run-dir (continue with --resume) and the best epoch written to --out.",
    )
    train.add_argument("data", help="training data: CSV/TSV, a folder or zip of class folders, the MR "
                       "rt-polarity files (folder or zip), or tfds:NAME[:SPLIT]")
    options.add_validation_option(train, help="validation data (same kinds as DATA); default: --val-fraction of DATA")
    train.add_argument("--val-fraction", type=options.probability, default=0.1,
                       help="share of DATA held out for validation when --val is absent (0 disables; default 0.1)")
    train.add_argument("--model", choices=("textrnn", "textcnn"), default="textrnn",
                       help="recurrent TextRNN (default) or convolutional TextCNN")
    options.add_network_options(train, units=64, embedding_dim=128, dropout=0.5)
    train.add_argument("--pooling", choices=POOLING, default="max", help="TextRNN pooling (default max)")
    train.add_argument("--unidirectional", action="store_true", help="a forward-only recurrent block")
    train.add_argument("--embedding", choices=("rand", "static", "non-static", "multichannel"), default="rand",
                       help="multichannel: TextCNN only")
    train.add_argument("--vectors", help="pretrained word vectors (GloVe / word2vec text format)")
    train.add_argument("--filters", type=options.positive_int, default=100,
                       help="TextCNN feature maps per filter width")
    options.add_vocabulary_options(train)
    train.add_argument("--level", choices=("word", "char"), default="word",
                       help="tokens are words or characters (default word)")
    train.add_argument("--problem", choices=("binary", "multiclass", "multilabel"),
                       help="default: inferred (multilabel when --label-separator is given)")
    train.add_argument("--threshold", type=options.open_fraction, default=0.5,
                       help="decision threshold of binary and multi-label outputs (default 0.5)")
    options.add_run_options(train, epochs=10, batch_size=32, patience=3)
    options.add_optimizer_options(train)
    options.add_distribute_option(train)
    options.add_quiet_option(train)
    add_table_options(train)
    train.set_defaults(handler=train_classifier)

    classify_parser = subparsers.add_parser(
        "classify",
        help="classify texts with a trained model",
        description="Print one line per input: label, probability, text. Texts come from the arguments, "
        "--file, or standard input (one per line). A bad line is reported and the others still answered.",
    )
    classify_parser.add_argument("model", help="a model written by train-classifier")
    add_text_arguments(classify_parser, "classify")
    classify_parser.set_defaults(handler=classify)


def train_classifier(args) -> int:
    """``textmodels train-classifier DATA --out MODEL.keras ...``; returns the exit code.

    Example::

        main(["train-classifier", "train.tsv", "--val", "dev.tsv", "--out", "model.keras", "--epochs", "3"])
    """
    from textmodels.classification.text_classifier import TextClassifier
    from textmodels.data.splits import train_val_test_split

    run = open_run(args)
    data = read_labeled_data(args, args.data)
    validation = read_labeled_data(args, args.val) if args.val else None
    if validation is None and args.val_fraction > 0:
        stratify = None if args.label_separator else data.labels
        train_ids, val_ids, _ = train_val_test_split(
            len(data), (1 - args.val_fraction, args.val_fraction, 0.0), seed=args.seed, stratify_labels=stratify
        )
        data, validation = data.take(train_ids), data.take(val_ids)

    def build():
        return TextClassifier(
            args.model, level=args.level, min_count=args.min_count, max_vocabulary=args.max_vocab,
            max_length=args.max_length, vectors=args.vectors, embedding=args.embedding,
            embedding_dim=args.embedding_dim, units=args.units, cell=args.cell, layers=args.layers,
            bidirectional=not args.unidirectional, pooling=args.pooling, filters=args.filters, dropout=args.dropout,
            problem=args.problem or ("multilabel" if args.label_separator else None), threshold=args.threshold,
            optimizer=args.optimizer, learning_rate=args.learning_rate, clipnorm=options.clipnorm(args),
            batch_size=args.batch_size,
        )

    classifier, source = train_in_run(run, args, TextClassifier, build, data, validation)
    if not worker_is_chief(args):
        return 0
    if classifier.vectors_report is not None:
        report = classifier.vectors_report
        print(f"Pretrained vectors covered {report.found} of {report.searched} words.", file=sys.stderr)
    summary = f"Wrote {args.out} (from {source.name})"
    if validation is not None:
        metrics = TextClassifier.load(args.out).evaluate(validation)
        summary += f"; validation accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}"
    print(summary + ".")
    return 0


def classify(args) -> int:
    """``textmodels classify MODEL.keras TEXT ... [--file F] [--json]``; exit code 1 when some input failed.

    Example::

        main(["classify", "model.keras", "a gorgeous film", "--json"])
    """
    from textmodels.classification.text_classifier import TextClassifier

    classifier = TextClassifier.load(args.model)

    def show(record) -> str:
        label = record["label"]
        label = "|".join(label) or "-" if isinstance(label, list) else label
        return f"{label}\t{record['probability']:.4f}\t{record['text']}"

    unreadable = {"text": None, "label": None, "probability": None, "probabilities": {}}
    return answer_texts(args, lambda texts: [p.to_dict() for p in classifier.predict(texts)], unreadable, show)
