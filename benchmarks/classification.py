"""Text-classification benchmark: MR sentence polarity (k-fold CV), SST-2 (train -> dev; ``sst2-10k``: the first
10,000 lines of its train.tsv -> dev) and NLTK movie_reviews (k-fold CV) with TextRNN (last / max / attention
pooling), TextCNN-rand, the ``train-classifier`` command as a user runs it (``cli``: no options; ``cli+lm``: with
``--init-from`` the language model given by ``--init-from``) and a TF-IDF + logistic regression baseline
(``tfidf-lr``: C fixed by ``--tfidf-c``; ``tfidf-lrcv``: C chosen by 3-fold CV inside each training part), and
NBSVM (``nbsvm``: Wang & Manning 2012, the strongest published linear model on these sets) on the same folds.
Prints mean ± std accuracy, training time and published figures, and writes ``benchmarks/results/<name>.json``
after every run (partial results survive an interruption).

The folds partition the data into ``--folds`` parts; ``--run-folds N`` trains on only the first N of them
(each still trained on the other folds' (k-1)/k share, so the numbers stay comparable to published k-fold CV
figures, with a wider error bar). Neural models hold out 10% of their training part for early stopping
(patience 1, best weights restored); the test fold is never seen before evaluation.

    python benchmarks/classification.py --quick
    python benchmarks/classification.py --datasets mr --folds 10 --run-folds 3 --epochs 4
    python benchmarks/classification.py --datasets sst2 --models textrnn-max,tfidf-lr --epochs 2
    python benchmarks/classification.py --datasets sst2-10k,sst2 --models cli,cli+lm,tfidf-lr --init-from lm.keras
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classification_common import format_table, machine_info, write_results  # noqa: E402

DATASETS = ("sst2-10k", "sst2", "mr", "movie_reviews")
MODELS = ("cli", "cli+lm", "textrnn-last", "textrnn-max", "textrnn-attention", "textcnn-rand", "tfidf-lr",
          "tfidf-lrcv", "nbsvm")
# Linear models: trained once per split (no seed).
LINEAR_MODELS = ("tfidf-lr", "tfidf-lrcv", "nbsvm")
# Truncation lengths in tokens (the textrnn-* and textcnn-* rows; the cli rows choose their own): MR and SST-2
# sentences fit whole; movie_reviews average ~750 tokens.
DEFAULT_MAX_LENGTH = {"sst2-10k": 60, "mr": 60, "sst2": 60, "movie_reviews": 400}
TARGETS = {"sst2-10k": 0.82, "sst2": 0.86, "mr": 0.80, "movie_reviews": 0.875}
PUBLISHED = {
    "sst2-10k": "-",
    "sst2": "BiLSTM from scratch 83-86; GloVe BiLSTM ~87",
    "mr": "CNN-rand 76.1; NBSVM-bi 79.4; CNN+word2vec 81.5",
    "movie_reviews": "SVM-bi 87.4; NBSVM-bi 89.5",
}


def load_dataset(name: str, data_dir: Path):
    from textmodels.data import read_class_folders, read_sentence_polarity, read_sst2

    if name == "mr":
        return read_sentence_polarity(data_dir / "nltk" / "sentence_polarity.zip"), None
    if name == "movie_reviews":
        return read_class_folders(data_dir / "nltk" / "movie_reviews.zip"), None
    train, dev = read_sst2(data_dir / "sst2" / "train.tsv"), read_sst2(data_dir / "sst2" / "dev.tsv")
    if name == "sst2-10k":  # the first 10,000 lines of train.tsv: its header and 9,999 examples
        train = train.take(range(9999))
    return train, dev


def splits(name: str, data, test, args):
    """(split name, train LabeledTexts, test LabeledTexts) for every run of ``name``."""
    import numpy as np

    from textmodels.data import kfold_indices

    if name.startswith("sst2"):
        train = data
        if args.sst2_train_limit and args.sst2_train_limit < len(data):
            keep = np.sort(np.random.default_rng(0).permutation(len(data))[: args.sst2_train_limit])
            train = data.take(keep)
        yield "train->dev", train, test
        return
    folds = list(kfold_indices(len(data), args.folds, seed=0, stratify_labels=data.labels))
    for fold, (train_ids, test_ids) in enumerate(folds[: args.run_folds or args.folds]):
        yield f"fold {fold + 1}/{args.folds}", data.take(train_ids), data.take(test_ids)


def run_tfidf(train, test, args, tune: bool = False) -> dict:
    """TF-IDF of word uni- and bigrams + logistic regression; ``tune`` picks C by 3-fold CV inside ``train``."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.pipeline import make_pipeline

    started = time.time()
    classifier = (LogisticRegressionCV(Cs=[1.0, 4.0, 16.0, 64.0], cv=3, scoring="accuracy", max_iter=2000) if tune
                  else LogisticRegression(C=args.tfidf_c, max_iter=2000))
    pipeline = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True), classifier)
    pipeline.fit(train.texts, train.labels)
    train_time = time.time() - started
    accuracy = float((pipeline.predict(test.texts) == np.array(test.labels)).mean())
    chosen_c = float(classifier.C_[0]) if tune else args.tfidf_c
    return {"accuracy": accuracy, "train_time_s": train_time, "epochs": None, "C": chosen_c}


def run_nbsvm(train, test) -> dict:
    """NBSVM-bi (Wang & Manning 2012, "Baselines and Bigrams"): binary word uni- and bigram features scaled by
    their naive-Bayes log-count ratio, a linear SVM (C = 1), its weights interpolated towards their mean magnitude
    (beta = 0.25), the paper's settings. Two labels only."""
    import numpy as np
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.svm import LinearSVC

    started = time.time()
    names = sorted(set(train.labels))
    if len(names) != 2:
        raise SystemExit(f"nbsvm: needs two labels, the training data has {len(names)}")
    labels = np.array([names.index(label) for label in train.labels])
    # Words and punctuation marks ("!" and "?" carry sentiment), lowercased.
    vectorizer = CountVectorizer(ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b|[^\w\s]", binary=True)
    features = vectorizer.fit_transform(train.texts)
    positive = 1 + np.asarray(features[labels == 1].sum(axis=0)).ravel()
    negative = 1 + np.asarray(features[labels == 0].sum(axis=0)).ravel()
    ratio = sparse.diags(np.log((positive / positive.sum()) / (negative / negative.sum())))
    svm = LinearSVC(C=1.0).fit(features @ ratio, labels)
    weights = 0.75 * np.abs(svm.coef_).mean() + 0.25 * svm.coef_.ravel()
    train_time = time.time() - started
    scores = vectorizer.transform(test.texts) @ ratio @ weights + svm.intercept_[0]
    accuracy = float((np.array(names)[(scores > 0).astype(int)] == np.array(test.labels)).mean())
    return {"accuracy": accuracy, "train_time_s": train_time, "epochs": None}


def run_neural(model: str, dataset: str, train, test, seed: int, args) -> dict:
    import keras

    from textmodels.classification.text_classifier import TextClassifier
    from textmodels.data.splits import train_val_test_split

    keras.utils.set_random_seed(seed)
    fit_ids, val_ids, _ = train_val_test_split(len(train), (0.9, 0.1, 0.0), seed=seed, stratify_labels=train.labels)
    kind, _, variant = model.partition("-")
    options = dict(
        max_length=args.max_length or DEFAULT_MAX_LENGTH[dataset], min_count=args.min_count,
        embedding_dim=args.embedding_dim, dropout=0.5, batch_size=args.batch_size, learning_rate=args.learning_rate,
    )
    if kind == "textrnn":
        classifier = TextClassifier("textrnn", units=args.units, pooling=variant, **options)
    else:
        classifier = TextClassifier("textcnn", filters=args.filters, **options)
    stopper = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=1, restore_best_weights=True, mode="max")
    started = time.time()
    history = classifier.fit(
        train.take(fit_ids), validation=train.take(val_ids), epochs=args.epochs, callbacks=[stopper],
        verbose=2 if args.verbose else 0,
    )
    train_time = time.time() - started
    report = classifier.evaluate(test)
    return {
        "accuracy": report["accuracy"],
        "macro_f1": report["macro_f1"],
        "train_time_s": train_time,
        "epochs": len(history.history["loss"]),
        "best_val_accuracy": max(history.history["val_accuracy"]),
        "vocabulary": len(classifier.text_encoder.vocabulary),
    }


def run_cli(model: str, train, test, seed: int, args) -> dict:
    """``textmodels train-classifier TRAIN.tsv --out M.keras`` as a user types it (``cli+lm``: with
    ``--init-from`` and the fine-tuning options of this script), then ``evaluate`` on ``test``."""
    import tempfile

    from textmodels.classification.text_classifier import TextClassifier
    from textmodels.cli import main as textmodels_main

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "train.tsv"
        data.write_text("sentence\tlabel\n" + "".join(f"{' '.join(text.split())}\t{label}\n"
                                                      for text, label in zip(train.texts, train.labels)))
        argv = ["train-classifier", str(data), "--out", str(Path(folder) / "model.keras"), "--seed", str(seed)]
        if model == "cli+lm":
            argv += ["--init-from", str(args.init_from), "--lm-epochs", str(args.lm_epochs)]
            argv += ["--gradual-unfreezing"] * args.gradual_unfreezing
            argv += ["--layer-rate-decay", str(args.layer_rate_decay)] if args.layer_rate_decay else []
        argv += args.cli_options.split()
        started = time.time()
        if textmodels_main(argv) != 0:
            raise RuntimeError(f"train-classifier failed: {' '.join(argv)}")
        train_time = time.time() - started
        classifier = TextClassifier.load(Path(folder) / "model.keras")
        state = json.loads((Path(folder) / "model.run" / "state.json").read_text())
    report = classifier.evaluate(test)
    return {
        "accuracy": report["accuracy"],
        "macro_f1": report["macro_f1"],
        "train_time_s": train_time,
        "epochs": state["epoch"],
        "best_epoch": state.get("best_epoch"),
        "vocabulary": len(classifier.text_encoder.vocabulary),
        "max_length": classifier.text_encoder.max_length,
        "command": "textmodels " + " ".join(argv[:1] + ["TRAIN.tsv"] + argv[2:3] + ["M.keras"] + argv[4:]),
    }


def summarise(runs: list[dict]) -> list[dict]:
    rows = []
    keys = sorted({(run["dataset"], run["model"]) for run in runs},
                  key=lambda key: (DATASETS.index(key[0]), MODELS.index(key[1])))
    for dataset, model in keys:
        chosen = [run for run in runs if run["dataset"] == dataset and run["model"] == model]
        accuracies = [run["accuracy"] for run in chosen]
        std = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
        mean = statistics.mean(accuracies)
        rows.append({
            "dataset": dataset,
            "model": model,
            "runs": len(chosen),
            "accuracy": f"{100 * mean:.1f} ± {100 * std:.1f}",
            "train time (s)": f"{statistics.mean(run['train_time_s'] for run in chosen):.0f}",
            "target": f"{100 * TARGETS[dataset]:.1f}",
            "met": "yes" if mean >= TARGETS[dataset] else "no",
            "published": PUBLISHED[dataset],
            "mean_accuracy": mean,
            "std_accuracy": std,
        })
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS), help=f"comma-separated from {DATASETS}")
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated from {MODELS}")
    parser.add_argument("--folds", type=int, default=10, help="k of the k-fold partition (MR, movie_reviews)")
    parser.add_argument("--run-folds", type=int, help="run only the first N folds (default: all k)")
    parser.add_argument("--seeds", type=int, default=1, help="training seeds per split (neural models)")
    parser.add_argument("--epochs", type=int, default=5, help="maximum epochs (early stopping may end sooner)")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--filters", type=int, default=100)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--min-count", type=int, default=1)
    parser.add_argument("--max-length", type=int, help="tokens kept per text (default per dataset)")
    parser.add_argument("--sst2-train-limit", type=int, help="subsample SST-2's 67k training phrases")
    parser.add_argument("--tfidf-c", type=float, default=4.0, help="inverse regularisation of the baseline")
    parser.add_argument("--init-from", help="the language model of the cli+lm rows (train-lm's --out)")
    parser.add_argument("--lm-epochs", type=int, default=0, help="cli+lm: --lm-epochs")
    parser.add_argument("--gradual-unfreezing", action="store_true", help="cli+lm: --gradual-unfreezing")
    parser.add_argument("--layer-rate-decay", type=float, help="cli+lm: --layer-rate-decay")
    parser.add_argument("--cli-options", default="", help="extra train-classifier options of both cli rows")
    parser.add_argument("--quick", action="store_true", help="smoke run: 600 examples per dataset, 2 folds, 1 epoch")
    parser.add_argument("--name", default="classification", help="results file name")
    parser.add_argument("--verbose", action="store_true", help="one log line per epoch")
    args = parser.parse_args(argv)
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [d for d in datasets if d not in DATASETS] + [m for m in models if m not in MODELS]
    if unknown:
        parser.error(f"unknown dataset/model names: {unknown}")
    if "cli+lm" in models and args.init_from is None:
        parser.error("the cli+lm rows need --init-from LM.keras")
    if args.quick:
        args.folds, args.run_folds, args.epochs, args.units, args.filters = 2, 2, 1, 16, 16
        args.name += "_quick"

    from textmodels.data.paths import shared_data_dir

    data_dir = shared_data_dir()
    if data_dir is None:
        parser.error("the shared data folder is missing (set RNN_DATA_DIR)")
    started = time.time()
    payload = {"benchmark": "text classification", "machine": machine_info(), "settings": vars(args), "runs": []}
    for dataset in datasets:
        data, test = load_dataset(dataset, data_dir)
        if args.quick:
            import numpy as np

            data = data.take(np.random.default_rng(0).permutation(len(data))[:600])
            test = test.take(range(200)) if test is not None else None
        for split, train, held_out in splits(dataset, data, test, args):
            for model in models:
                seeds = [0] if model in LINEAR_MODELS else range(args.seeds)
                for seed in seeds:
                    if model == "nbsvm":
                        result = run_nbsvm(train, held_out)
                    elif model.startswith("tfidf"):
                        result = run_tfidf(train, held_out, args, tune=model == "tfidf-lrcv")
                    elif model.startswith("cli"):
                        result = run_cli(model, train, held_out, seed, args)
                    else:
                        result = run_neural(model, dataset, train, held_out, seed, args)
                    run = {"dataset": dataset, "model": model, "split": split, "seed": seed,
                           "train_size": len(train), "test_size": len(held_out), **result}
                    payload["runs"].append(run)
                    print(f"{dataset:<14} {model:<18} {split:<12} seed {seed}: accuracy {run['accuracy']:.4f} "
                          f"({run['train_time_s']:.0f} s)", flush=True)
                    payload["summary"] = summarise(payload["runs"])
                    payload["wall_time_s"] = time.time() - started
                    write_results(args.name, payload)
    rows = payload["summary"]
    print()
    print(format_table(rows, ["dataset", "model", "runs", "accuracy", "train time (s)", "target", "met",
                              "published"]))
    print(f"\nWall time {payload['wall_time_s']:.0f} s. Results: benchmarks/results/{args.name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
