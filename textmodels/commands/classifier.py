"""``textmodels train-classifier``, ``classify`` and ``evaluate``.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["classify", "m.keras", "great film", "--json"]).json
    True
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path


def register(subparsers) -> None:
    """Adds the classifier subcommands to an argparse ``subparsers`` object."""
    train = subparsers.add_parser(
        "train-classifier",
        help="train a TextRNN / TextCNN text classifier",
        description="Train a text classifier with a progress bar, early stopping on validation data, a "
        "checkpoint after every epoch (resume with --resume) and the best model written to --out.",
    )
    train.add_argument("data", help="training data: CSV/TSV, a folder or zip of class folders, the MR "
                       "rt-polarity files (folder or zip), or tfds:NAME[:SPLIT]")
    train.add_argument("--out", required=True, help="where to write the trained model (.keras)")
    train.add_argument("--val", help="validation data (same kinds as DATA); default: --val-fraction of DATA")
    train.add_argument("--val-fraction", type=float, default=0.1,
                       help="share of DATA held out for validation when --val is absent (0 disables; default 0.1)")
    train.add_argument("--model", choices=("textrnn", "textcnn"), default="textrnn")
    train.add_argument("--cell", default="lstm", help="simple | gru | lstm | peephole_lstm | coupled_lstm")
    train.add_argument("--pooling", default="max", help="last | mean | max | topk | attention (TextRNN)")
    train.add_argument("--units", type=int, default=64)
    train.add_argument("--layers", type=int, default=1)
    train.add_argument("--unidirectional", action="store_true", help="a forward-only recurrent block")
    train.add_argument("--embedding-dim", type=int, default=128)
    train.add_argument("--embedding", default="rand", help="rand | static | non-static | multichannel (TextCNN)")
    train.add_argument("--vectors", help="pretrained word vectors (GloVe / word2vec text format)")
    train.add_argument("--filters", type=int, default=100, help="TextCNN feature maps per filter width")
    train.add_argument("--dropout", type=float, default=0.5)
    train.add_argument("--max-length", type=int, help="truncate texts to this many tokens")
    train.add_argument("--min-count", type=int, default=1, help="rarer words become <unk>")
    train.add_argument("--max-vocabulary", type=int)
    train.add_argument("--level", choices=("word", "char"), default="word")
    train.add_argument("--problem", choices=("binary", "multiclass", "multilabel"),
                       help="default: inferred (multilabel when --label-separator is given)")
    train.add_argument("--threshold", type=float, default=0.5)
    add_training_options(train)
    _add_data_options(train)
    train.set_defaults(handler=train_classifier)

    classify_parser = subparsers.add_parser(
        "classify",
        help="classify texts with a trained model",
        description="Print one line per input: label, probability, text. Texts come from the arguments, "
        "--file, or standard input (one per line). A bad line is reported and the others still answered.",
    )
    classify_parser.add_argument("model", help="a model written by train-classifier")
    classify_parser.add_argument("texts", nargs="*", help="texts to classify ('-' reads standard input)")
    classify_parser.add_argument("--file", help="read texts from this file, one per line")
    classify_parser.add_argument("--json", action="store_true", help="print a JSON list instead")
    classify_parser.set_defaults(handler=classify)

    evaluate_parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a trained classifier (or tagger) on labelled data",
        description="Print accuracy, macro-F1, per-class precision/recall and the confusion matrix.",
    )
    evaluate_parser.add_argument("model")
    evaluate_parser.add_argument("data", help="labelled data (for a tagger: a treebank zip or folder)")
    evaluate_parser.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate_parser.add_argument("--fileids", help="tagger only: comma-separated treebank files (default: all)")
    evaluate_parser.add_argument("--last-files", type=int, help="tagger only: the last N treebank files")
    _add_data_options(evaluate_parser)
    evaluate_parser.set_defaults(handler=evaluate)


def add_training_options(parser) -> None:
    """Epochs, batch size, optimizer, early stopping, checkpoints and --resume (shared with train-tagger)."""
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--optimizer", choices=("adam", "sgd", "rmsprop"), default="adam")
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--clipnorm", type=float, default=5.0, help="clip gradients by global norm")
    parser.add_argument("--patience", type=int, default=3, help="early-stopping patience in epochs")
    parser.add_argument("--checkpoint-dir", help="checkpoint folder (default: OUT with .run instead of .keras)")
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run in --checkpoint-dir")
    parser.add_argument("--seed", type=int, default=0)


def _add_data_options(parser) -> None:
    group = parser.add_argument_group("table options (CSV/TSV data)")
    group.add_argument("--text-column", help="header name or 0-based index (default: guessed from the header)")
    group.add_argument("--label-column", help="header name or 0-based index")
    group.add_argument("--delimiter", help="default: tab for .tsv, comma for .csv")
    group.add_argument("--header", choices=("auto", "yes", "no"), default="auto")
    group.add_argument("--encoding", default="utf-8")
    group.add_argument("--replace-errors", action="store_true",
                       help="replace undecodable bytes with U+FFFD instead of stopping with an error")
    group.add_argument("--label-separator", help="split label cells on this string (multi-label data)")
    group.add_argument("--tfds-data-dir", help="data_dir for tfds:NAME sources")


def read_data(args, source: str):
    """The `LabeledTexts` at ``source`` read with the table options in ``args``.

    Example (``args`` as parsed by ``train-classifier`` or ``evaluate``)::

        data = read_data(args, "../shared/data/sst2/dev.tsv")
    """
    from textmodels.data.labeled_sources import read_labeled_source

    def column(value):
        return int(value) if value is not None and value.isdigit() else value

    return read_labeled_source(
        source,
        text_column=column(args.text_column),
        label_column=column(args.label_column),
        delimiter=args.delimiter,
        header={"auto": "auto", "yes": True, "no": False}[args.header],
        encoding=args.encoding,
        errors="replace" if args.replace_errors else "strict",
        label_separator=args.label_separator,
        tfds_data_dir=args.tfds_data_dir,
    )


def checkpoint_directory(args) -> Path:
    """``--checkpoint-dir``, or ``--out`` with its ``.keras`` suffix replaced by ``.run``.

    Example:
        >>> import argparse
        >>> checkpoint_directory(argparse.Namespace(out="models/sst2.keras", checkpoint_dir=None)).as_posix()
        'models/sst2.run'
    """
    out = Path(args.out)
    if out.suffix != ".keras":
        raise ValueError(f"--out {out}: the model file name must end in .keras")
    return Path(args.checkpoint_dir) if args.checkpoint_dir else out.with_suffix(".run")


def finish_run(run, out: Path, load) -> Path:
    """Copies the best checkpoint (else the last) to ``out`` after checking it loads; returns the source used.

    Example (after a training run)::

        finish_run(run, Path("model.keras"), TextClassifier.load)
    """
    source = run.best_path if run.best_path.is_file() else run.last_path
    if not source.is_file():
        raise RuntimeError(f"Training finished without a checkpoint in {run.directory}.")
    load(source).save(out)
    return source


def train_classifier(args) -> int:
    """``textmodels train-classifier DATA --out MODEL.keras ...``; returns the exit code.

    Example::

        main(["train-classifier", "train.tsv", "--val", "dev.tsv", "--out", "model.keras", "--epochs", "3"])
    """
    import keras

    from textmodels.data.splits import train_val_test_split
    from textmodels.classification.text_classifier import TextClassifier
    from textmodels.training import TrainingRun

    keras.utils.set_random_seed(args.seed)
    out = Path(args.out)
    run = TrainingRun(checkpoint_directory(args), resume=args.resume)
    data = read_data(args, args.data)
    validation = read_data(args, args.val) if args.val else None
    if validation is None and args.val_fraction > 0:
        if not 0 < args.val_fraction < 1:
            raise ValueError(f"--val-fraction must lie in [0, 1), got {args.val_fraction}")
        stratify = None if args.label_separator else data.labels
        train_ids, val_ids, _ = train_val_test_split(
            len(data), (1 - args.val_fraction, args.val_fraction, 0.0), seed=args.seed, stratify_labels=stratify
        )
        data, validation = data.take(train_ids), data.take(val_ids)

    restored = run.restore()
    if restored is not None:
        classifier = TextClassifier.from_network(restored)
        classifier.batch_size = args.batch_size
        print(f"Resuming {run.directory} after epoch {run.initial_epoch}.", file=sys.stderr)
    else:
        classifier = TextClassifier(
            args.model,
            level=args.level,
            min_count=args.min_count,
            max_vocabulary=args.max_vocabulary,
            max_length=args.max_length,
            vectors=args.vectors,
            embedding=args.embedding,
            embedding_dim=args.embedding_dim,
            units=args.units,
            cell=args.cell,
            layers=args.layers,
            bidirectional=not args.unidirectional,
            pooling=args.pooling,
            filters=args.filters,
            dropout=args.dropout,
            problem=args.problem or ("multilabel" if args.label_separator else None),
            threshold=args.threshold,
            optimizer=args.optimizer,
            learning_rate=args.learning_rate,
            clipnorm=args.clipnorm,
            batch_size=args.batch_size,
        )
    if run.initial_epoch < args.epochs:
        monitor = "val_loss" if validation is not None else "loss"
        classifier.fit(
            data,
            validation=validation,
            epochs=args.epochs,
            callbacks=run.callbacks(monitor=monitor, patience=args.patience if validation is not None else None),
            initial_epoch=run.initial_epoch,
            verbose=1,
        )
        run.raise_if_diverged()
    if classifier.vectors_report is not None:
        report = classifier.vectors_report
        print(f"Pretrained vectors covered {report.found} of {report.searched} words.", file=sys.stderr)
    source = finish_run(run, out, TextClassifier.load)
    summary = f"Wrote {out} (from {source.name})"
    if validation is not None:
        metrics = TextClassifier.load(out).evaluate(validation)
        summary += f"; validation accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}"
    print(summary + ".")
    return 0


@dataclass
class TextInput:
    """One input line for classify / tag: its text, or why it could not be read.

    Example:
        >>> TextInput("<stdin>:3", None, "not valid UTF-8 (byte 4)").error
        'not valid UTF-8 (byte 4)'
    """

    source: str
    text: str | None
    error: str | None = None


def read_text_inputs(texts: list[str], file: str | None, stdin=None) -> list[TextInput]:
    """Texts from arguments, then ``file``, then standard input (when no texts are given or one is ``-``).
    Lines that are not valid UTF-8 become inputs with an ``error`` naming the file and line.

    Example:
        >>> import io
        >>> [(i.source, i.text, i.error) for i in read_text_inputs(["-"], None, stdin=io.BytesIO(b"fine\\n\\xff"))]
        [('<stdin>:1', 'fine', None), ('<stdin>:2', None, 'not valid UTF-8 (byte 0)')]
    """
    inputs = [TextInput(f"argument {i + 1}", text) for i, text in enumerate(texts) if text != "-"]
    if file is not None:
        path = Path(file)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        inputs.extend(_decode_lines(path.read_bytes(), str(path)))
    if "-" in texts or (not texts and file is None):
        stream = stdin if stdin is not None else sys.stdin.buffer
        inputs.extend(_decode_lines(stream.read(), "<stdin>"))
    if not inputs:
        raise ValueError("No texts given: pass them as arguments, with --file, or on standard input.")
    return inputs


def _decode_lines(raw: bytes, source: str) -> list[TextInput]:
    inputs = []
    for number, line in enumerate(raw.splitlines(), start=1):
        try:
            inputs.append(TextInput(f"{source}:{number}", line.decode("utf-8")))
        except UnicodeDecodeError as error:
            inputs.append(TextInput(f"{source}:{number}", None, f"not valid UTF-8 (byte {error.start})"))
    return inputs


def classify(args) -> int:
    """``textmodels classify MODEL.keras TEXT ... [--file F] [--json]``; exit code 1 when some input failed.

    Example::

        main(["classify", "model.keras", "a gorgeous film", "--json"])
    """
    from textmodels.classification.text_classifier import TextClassifier

    classifier = TextClassifier.load(args.model)
    inputs = read_text_inputs(args.texts, args.file)
    readable = [item for item in inputs if item.error is None]
    predictions = iter(classifier.predict([item.text for item in readable]))
    records = []
    for item in inputs:
        if item.error is None:
            prediction = next(predictions)
            record = {**prediction.to_dict(), "source": item.source}
            if prediction.error:
                record["error"] = f"{item.source}: {prediction.error}"
        else:
            record = {"text": None, "label": None, "probability": None, "probabilities": {}, "source": item.source,
                      "error": f"{item.source}: {item.error}"}
        records.append(record)
    failed = [record for record in records if record["error"]]
    if args.json:
        print(json.dumps(records, ensure_ascii=False, indent=2))
    else:
        for record in records:
            if record["error"]:
                print(f"error: {record['error']}", file=sys.stderr)
                continue
            label = record["label"]
            label = "|".join(label) or "-" if isinstance(label, list) else label
            print(f"{label}\t{record['probability']:.4f}\t{record['text']}")
    return 1 if failed else 0


def evaluate(args) -> int:
    """``textmodels evaluate MODEL.keras DATA [--json]`` for classifiers and taggers.

    Example::

        main(["evaluate", "model.keras", "dev.tsv", "--json"])
    """
    from textmodels.saving import saved_class_name

    if saved_class_name(args.model) == "textmodels>RecurrentTagger":
        from textmodels.commands.tagger import evaluate_tagger

        return evaluate_tagger(args)
    from textmodels.classification.text_classifier import TextClassifier

    classifier = TextClassifier.load(args.model)
    report = classifier.evaluate(read_data(args, args.data))
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
        lines.append(f"{name[:20]:<20} {row['precision']:9.4f} {row['recall']:7.4f} {row['f1']:7.4f} {row['support']:8d}")
    matrix = report["confusion_matrix"]
    if isinstance(matrix, list) and len(matrix) <= 20:
        lines += ["", "confusion matrix (rows: true, columns: predicted)"]
        lines += [f"{name[:20]:<20} " + " ".join(f"{count:6d}" for count in row) for name, row in zip(report["labels"], matrix)]
    return "\n".join(lines)
