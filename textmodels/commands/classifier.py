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

from textmodels.classifier_config import DEFAULTS, LONG_DOCUMENT_WORDS, MODELS
from textmodels.commands import options
from textmodels.commands.labeled_data import add_table_options, read_labeled_data
from textmodels.commands.runs import fit_in_run, provenance, start_training, worker_is_chief
from textmodels.commands.text_inputs import add_text_arguments, answer_texts

POOLING = ("last", "mean", "max", "topk", "attention")  # textmodels.classification.text_rnn, without Keras


def register(subparsers) -> None:
    """Adds the classifier subcommands to an argparse ``subparsers`` object; every default is
    `textmodels.classifier_config.DEFAULTS`' (the Python API's)."""
    train = subparsers.add_parser(
        "train-classifier",
        help="train a TextRNN / TextCNN / bag-of-n-grams text classifier",
        description="Train a text classifier with a progress bar, early stopping on validation data, a "
        "checkpoint after every epoch in --run-dir (continue with --resume) and the best epoch written to --out. "
        "With no options the model is chosen from the data: for sentences, a bidirectional LSTM with max "
        "pooling, token and embedding dropout; for long documents (the median text over "
        f"{LONG_DOCUMENT_WORDS} words), a bag of words and word bigrams (fastText); Adam, early stopping on a "
        "held-out tenth of DATA; the sequence length is chosen from the data. --init-from starts from a language "
        "model written by train-lm (docs/text_classification.md).",
    )
    train.add_argument("data", help="training data: CSV/TSV, a folder or zip of class folders, the MR "
                       "rt-polarity files (folder or zip), or tfds:NAME[:SPLIT]")
    options.add_validation_option(train, help="validation data (same kinds as DATA); default: --val-fraction of DATA")
    train.add_argument("--val-fraction", type=options.probability, default=DEFAULTS.validation_fraction,
                       help="share of DATA held out for validation (early stopping) when --val is absent (0 "
                       f"disables; default {DEFAULTS.validation_fraction})")
    train.add_argument("--model", choices=MODELS, default=DEFAULTS.model,
                       help="textrnn: embedding, recurrent block, pooling; textcnn: Kim's CNN; bag: the mean "
                       "embedding of the words and word n-grams (fastText; Adam's learning rate 1e-2 unless given); "
                       f"auto: bag when the median text of DATA has over {LONG_DOCUMENT_WORDS} words, else textrnn "
                       f"(default {DEFAULTS.model})")
    train.add_argument("--ngrams", type=options.positive_int, default=DEFAULTS.ngrams,
                       help="bag: the longest word n-grams read beside the words; an n-gram needs two "
                       f"occurrences in DATA (default {DEFAULTS.ngrams})")
    options.add_network_options(train, cell=DEFAULTS.cell, units=DEFAULTS.units, layers=DEFAULTS.layers,
                                embedding_dim=DEFAULTS.embedding_dim, dropout=DEFAULTS.dropout,
                                shape_from="--init-from")
    train.add_argument("--pooling", choices=POOLING, default=DEFAULTS.pooling,
                       help=f"TextRNN pooling over time (default {DEFAULTS.pooling})")
    direction = train.add_mutually_exclusive_group()
    direction.add_argument("--unidirectional", dest="bidirectional", action="store_const", const=False, default=None,
                           help="a forward-only recurrent block (the default with --init-from, like the language "
                           "model)")
    direction.add_argument("--bidirectional", dest="bidirectional", action="store_const", const=True,
                           help="both directions (the default without --init-from; with it, a one-layer language "
                           "model becomes the forward direction and the backward one starts fresh)")
    train.add_argument("--embedding-dropout", type=options.probability, default=DEFAULTS.embedding_dropout,
                       help=f"dropout on the embedded tokens (default {DEFAULTS.embedding_dropout})")
    train.add_argument("--token-dropout", type=options.probability, default=DEFAULTS.token_dropout,
                       help="share of training tokens replaced by <unk>, which trains the row unseen test words "
                       f"fall on (default {DEFAULTS.token_dropout})")
    train.add_argument("--embedding", choices=("rand", "static", "non-static", "multichannel"), default="rand",
                       help="rand: learned from scratch (with --init-from: the language model's rows, "
                       "fine-tuned); the others start from --vectors or --init-from (frozen, fine-tuned, both); "
                       "multichannel: TextCNN only")
    train.add_argument("--vectors", help="pretrained word vectors (GloVe / word2vec text format)")
    train.add_argument("--filters", type=options.positive_int, default=DEFAULTS.filters,
                       help=f"TextCNN feature maps per filter width (default {DEFAULTS.filters})")
    options.add_vocabulary_options(
        train, min_count=DEFAULTS.min_count, max_length=DEFAULTS.max_length,
        max_length_help="longest sequence kept, in tokens (default: chosen from DATA: its longest text, at most "
        "500 tokens, 5,000 words and n-grams for bag); when DATA's own texts are longer (long documents), a text "
        "keeps its first quarter and last three quarters, else its head",
    )
    train.add_argument("--level", choices=("word", "char"), default=None,
                       help=f"tokens (default {DEFAULTS.level}, or the --init-from model's)")
    train.add_argument("--problem", choices=("binary", "multiclass", "multilabel"), default=DEFAULTS.problem,
                       help="default: inferred (multilabel when --label-separator is given)")
    train.add_argument("--threshold", type=options.open_fraction, default=DEFAULTS.threshold,
                       help=f"decision threshold of binary and multi-label outputs (default {DEFAULTS.threshold})")
    options.add_run_options(train, epochs=DEFAULTS.epochs, batch_size=DEFAULTS.batch_size,
                            patience=DEFAULTS.patience)
    options.add_optimizer_options(train, optimizer=DEFAULTS.optimizer, learning_rate=DEFAULTS.learning_rate,
                                  clipnorm=DEFAULTS.clipnorm)
    pretraining = train.add_argument_group("starting from a pretrained language model (ULMFiT)")
    pretraining.add_argument("--init-from", metavar="LM.keras",
                             help="a word- or char-level language model written by train-lm: its embedding and "
                             "recurrent layers start the classifier, its vocabulary maps word by word (words it "
                             "never saw start fresh); the network takes its shape")
    pretraining.add_argument("--lm-epochs", type=options.non_negative_int, default=DEFAULTS.lm_epochs,
                             help="first train the language model this many epochs on DATA's texts (labels "
                             f"unused; default {DEFAULTS.lm_epochs})")
    pretraining.add_argument("--gradual-unfreezing", action="store_true", default=DEFAULTS.gradual_unfreezing,
                             help="epoch 1 trains the output layers only, each later epoch unfreezes one more "
                             "layer from the top (Adam)")
    pretraining.add_argument("--layer-rate-decay", type=options.positive_float, default=DEFAULTS.layer_rate_decay,
                             help="each layer learns this many times slower than the one above it (ULMFiT: 2.6; "
                             "default: one rate for all; Adam)")
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

    distribution = start_training(args)
    data = read_labeled_data(args, args.data)
    validation = read_labeled_data(args, args.val) if args.val else None
    if validation is None and args.val_fraction > 0:
        stratify = None if args.label_separator else data.labels
        train_ids, val_ids, _ = train_val_test_split(
            len(data), (1 - args.val_fraction, args.val_fraction, 0.0), seed=args.seed, stratify_labels=stratify
        )
        data, validation = data.take(train_ids), data.take(val_ids)

    classifier = TextClassifier(
        args.model, level=args.level, min_count=args.min_count, max_vocabulary=args.max_vocab,
        max_length=args.max_length, vectors=args.vectors, embedding=args.embedding,
        embedding_dim=args.embedding_dim, units=args.units, cell=args.cell, layers=args.layers,
        bidirectional=args.bidirectional, pooling=args.pooling, embedding_dropout=args.embedding_dropout,
        token_dropout=args.token_dropout, filters=args.filters, ngrams=args.ngrams, dropout=args.dropout,
        problem=args.problem or ("multilabel" if args.label_separator else None), threshold=args.threshold,
        optimizer=args.optimizer, learning_rate=args.learning_rate, clipnorm=options.clipnorm(args),
        batch_size=args.batch_size, init_from=args.init_from, lm_epochs=args.lm_epochs,
        gradual_unfreezing=args.gradual_unfreezing, layer_rate_decay=args.layer_rate_decay,
    )
    # The held-out part was split above (seeded by --seed); fit must not hold out another.
    trained = fit_in_run(classifier, data, validation, args, distribution, validation_fraction=0.0)
    if not worker_is_chief(args, distribution):
        return 0
    if classifier.vectors_report is not None:
        report = classifier.vectors_report
        print(f"Pretrained vectors covered {report.found} of {report.searched} words.", file=sys.stderr)
    if classifier.transfer_report is not None:
        print(classifier.transfer_report.summary(), file=sys.stderr)
    summary = f"Wrote {args.out} ({provenance(trained)})"
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
