"""``textmodels evaluate MODEL.keras DATA``: the report of a trained classifier (labelled data) or tagger (a
treebank), chosen by what the model file holds.

Example:
    >>> from textmodels.metrics import classification_report
    >>> print(format_report(classification_report([0, 1], [0, 0], ["neg", "pos"])).splitlines()[1])
    accuracy  0.5000
"""

from __future__ import annotations

import json

from textmodels.commands.labeled_data import add_table_options, read_labeled_data


def register(subparsers) -> None:
    """Adds ``evaluate``."""
    evaluate_parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a trained classifier (or tagger) on labelled data",
        description="Print accuracy, macro-F1, per-class precision/recall and the confusion matrix.",
    )
    evaluate_parser.add_argument("model", help="a model written by train-classifier or train-tagger")
    evaluate_parser.add_argument("data", help="labelled data (for a tagger: a treebank zip or folder)")
    evaluate_parser.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate_parser.add_argument("--fileids", help="tagger only: comma-separated treebank files (default: all)")
    evaluate_parser.add_argument("--last-files", type=int, help="tagger only: the last N treebank files")
    add_table_options(evaluate_parser)
    evaluate_parser.set_defaults(handler=evaluate)


def evaluate(args) -> int:
    """``textmodels evaluate MODEL.keras DATA [--json]`` for classifiers and taggers.

    Example::

        main(["evaluate", "model.keras", "dev.tsv", "--json"])
    """
    import keras

    from textmodels.saving import saved_class_name
    from textmodels.tagging.recurrent_tagger import RecurrentTagger

    if saved_class_name(args.model) == keras.saving.get_registered_name(RecurrentTagger):
        return evaluate_tagger(args)
    from textmodels.classification.text_classifier import TextClassifier

    classifier = TextClassifier.load(args.model)
    report = classifier.evaluate(read_labeled_data(args, args.data))
    print(json.dumps(report, ensure_ascii=False) if args.json else format_report(report))
    return 0


def format_report(report: dict) -> str:
    """A readable summary of a `classification_report` / `multilabel_report` dict.

    Example:
        >>> from textmodels.metrics import classification_report
        >>> print(format_report(classification_report([0, 1], [0, 1], ["neg", "pos"])).splitlines()[1])
        accuracy  1.0000
    """
    lines = [f"examples  {report['examples']}", f"accuracy  {report['accuracy']:.4f}",
             f"macro-F1  {report['macro_f1']:.4f}", "", f"{'label':<20} precision  recall      f1  support"]
    for name, row in report["per_class"].items():
        lines.append(
            f"{name[:20]:<20} {row['precision']:9.4f} {row['recall']:7.4f} {row['f1']:7.4f} {row['support']:8d}"
        )
    matrix = report["confusion_matrix"]
    if isinstance(matrix, list) and len(matrix) <= 20:
        lines += ["", "confusion matrix (rows: true, columns: predicted)"]
        lines += [
            f"{name[:20]:<20} " + " ".join(f"{count:6d}" for count in row)
            for name, row in zip(report["labels"], matrix)
        ]
    return "\n".join(lines)


def evaluate_tagger(args) -> int:
    """``textmodels evaluate TAGGER.keras TREEBANK [--fileids a,b | --last-files N] [--json]``.

    Example::

        main(["evaluate", "pos.keras", "../shared/data/nltk/treebank.zip", "--last-files", "20"])
    """
    from textmodels.data import read_treebank_pos, treebank_fileids
    from textmodels.tagging.sequence_tagger import SequenceTagger

    tagger = SequenceTagger.load(args.model)
    fileids = None
    if args.fileids:
        fileids = [name.strip() for name in args.fileids.split(",") if name.strip()]
    elif args.last_files:
        fileids = treebank_fileids(args.data)[-args.last_files:]
    report = tagger.evaluate(read_treebank_pos(args.data, fileids))
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(format_report(report))
        print(f"tokens    {report['tokens']} (unknown words {report['unknown_tokens']}, "
              f"accuracy {report['unknown_accuracy'] or 0:.4f})")
    return 0
