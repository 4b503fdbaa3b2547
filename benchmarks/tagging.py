"""Part-of-speech tagging benchmark on NLTK's Penn Treebank sample: a bidirectional recurrent tagger trained on
the first files, early-stopped on the next ones, and scored on held-out FILES (token accuracy, padding
excluded), with a most-frequent-tag baseline for reference. Writes ``benchmarks/results/<name>.json``.

    python benchmarks/tagging.py --quick
    python benchmarks/tagging.py --epochs 10 --seeds 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classification_common import format_table, machine_info, write_results  # noqa: E402

TARGET = 0.94


def most_frequent_tag_accuracy(train, test) -> float:
    """Each known word gets its most frequent training tag, unknown words the most frequent tag overall."""
    by_word, overall = defaultdict(Counter), Counter()
    for sentence in train:
        for word, tag in sentence:
            by_word[word][tag] += 1
            overall[tag] += 1
    fallback = overall.most_common(1)[0][0]
    pairs = [(tag, by_word[word].most_common(1)[0][0] if word in by_word else fallback)
             for sentence in test for word, tag in sentence]
    return sum(gold == guess for gold, guess in pairs) / len(pairs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--test-files", type=int, default=20, help="held-out files at the end (default 20 of 199)")
    parser.add_argument("--val-files", type=int, default=10, help="validation files before them")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--embedding-dim", type=int, default=100)
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=0.003)
    parser.add_argument("--patience", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="smoke run: 30 training files, 2 epochs, 16 units")
    parser.add_argument("--name", default="tagging")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.units, args.name = 2, 16, args.name + "_quick"

    import keras

    from textmodels.commands.tagger import split_files
    from textmodels.data import read_treebank_pos, treebank_fileids
    from textmodels.data.paths import shared_data_dir
    from textmodels.tagging.sequence_tagger import SequenceTagger

    data_dir = shared_data_dir()
    if data_dir is None:
        parser.error("the shared data folder is missing (set RNN_DATA_DIR)")
    treebank = data_dir / "nltk" / "treebank.zip"
    started = time.time()
    train_ids, val_ids, test_ids = split_files(treebank_fileids(treebank), args.test_files, args.val_files)
    if args.quick:
        train_ids = train_ids[:30]
    train, validation, test = (read_treebank_pos(treebank, ids) for ids in (train_ids, val_ids, test_ids))
    payload = {
        "benchmark": "POS tagging, NLTK treebank sample, held-out files",
        "machine": machine_info(),
        "settings": vars(args),
        "split": {"train_files": len(train_ids), "val_files": len(val_ids), "test_files": test_ids,
                  "train_sentences": len(train), "val_sentences": len(validation), "test_sentences": len(test)},
        "baseline_most_frequent_tag": most_frequent_tag_accuracy(train, test),
        "runs": [],
    }
    for seed in range(args.seeds):
        keras.utils.set_random_seed(seed)
        tagger = SequenceTagger(embedding_dim=args.embedding_dim, units=args.units, min_count=args.min_count,
                                batch_size=args.batch_size, learning_rate=args.learning_rate)
        stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=args.patience, restore_best_weights=True)
        fit_started = time.time()
        history = tagger.fit(train, validation=validation, epochs=args.epochs, callbacks=[stopper],
                             verbose=2 if args.verbose else 0)
        train_time = time.time() - fit_started
        report = tagger.evaluate(test)
        run = {"seed": seed, "accuracy": report["accuracy"], "macro_f1": report["macro_f1"],
               "unknown_accuracy": report["unknown_accuracy"], "unknown_tokens": report["unknown_tokens"],
               "tokens": report["tokens"], "unseen_tags": report["unseen_tags"], "epochs": len(history.history["loss"]),
               "train_time_s": train_time}
        payload["runs"].append(run)
        print(f"seed {seed}: held-out token accuracy {run['accuracy']:.4f} "
              f"(unknown words {run['unknown_accuracy']:.4f}), "
              f"{run['epochs']} epochs, {train_time:.0f} s", flush=True)
        payload["wall_time_s"] = time.time() - started
        write_results(args.name, payload)
    accuracies = [run["accuracy"] for run in payload["runs"]]
    mean = statistics.mean(accuracies)
    std = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
    payload["summary"] = {"mean_accuracy": mean, "std_accuracy": std, "target": TARGET, "target_met": mean >= TARGET}
    payload["wall_time_s"] = time.time() - started
    write_results(args.name, payload)
    rows = [
        {"model": "most frequent tag", "token accuracy": f"{100 * payload['baseline_most_frequent_tag']:.2f}"},
        {"model": f"BiLSTM tagger ({len(accuracies)} seed(s))", "token accuracy": f"{100 * mean:.2f} ± {100 * std:.2f}",
         "train time (s)": f"{statistics.mean(run['train_time_s'] for run in payload['runs']):.0f}",
         "target": f"{100 * TARGET:.1f}", "met": "yes" if mean >= TARGET else "no"},
    ]
    print()
    print(format_table(rows, ["model", "token accuracy", "train time (s)", "target", "met"]))
    print(f"\nHeld-out: {len(test_ids)} files, {payload['runs'][0]['tokens']} tokens. Wall time "
          f"{payload['wall_time_s']:.0f} s. Results: benchmarks/results/{args.name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
