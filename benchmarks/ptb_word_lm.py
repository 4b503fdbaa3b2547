"""Penn Treebank word-level language model: the "small" configuration of Zaremba et al. (2014).

2 x 200 LSTM, 20 unrolled steps, batch 20, 13 epochs, SGD with learning rate 1 halved every epoch after the
4th, gradients clipped to global norm 5, weights initialised uniformly in [-0.1, 0.1], no dropout. Published
test perplexity: 114.5.

Zaremba's loss is the NLL summed over the 20 steps (averaged over the batch); ours is the mean per token, so
the same update is SGD with learning rate 1 x 20 and clipping at 5 / 20 (scaling the loss by 20 scales the
gradient by 20, its clipped version by 20, and the step by 20).

Perplexities are exact: total NLL over total tokens of the whole file, read as one stream with carried state.
After every epoch the results so far are written to ``benchmarks/results/ptb_word_lm.json``, so a run stopped
by ``--time-budget-minutes`` (or killed) still leaves its numbers.

Example:
    .venv/bin/python benchmarks/ptb_word_lm.py --quick
    nice -n 10 .venv/bin/python benchmarks/ptb_word_lm.py --time-budget-minutes 90
    taskset -c 1 .venv/bin/python benchmarks/ptb_word_lm.py --seed 1   # one core; another seed on the other
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from lm_reporting import EpochRecorder, machine_description, write_report  # noqa: E402

from textmodels.data.paths import shared_data_dir  # noqa: E402
from textmodels.data.text_files import read_corpus_text  # noqa: E402
from textmodels.language_model.perplexity import evaluate_language_model  # noqa: E402
from textmodels.language_model.training import train_language_model  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
PUBLISHED_TEST_PERPLEXITY = 114.5


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None, help="folder with ptb.{train,valid,test}.txt")
    parser.add_argument("--epochs", type=int, default=13)
    parser.add_argument("--time-budget-minutes", type=float, default=None,
                        help="stop training after this much wall time, then evaluate on the test set")
    parser.add_argument("--quick", action="store_true", help="a 1-epoch smoke run on the first 30k words")
    parser.add_argument("--run-dir", type=Path, default=None, help="checkpoint folder (default: a folder in /tmp)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --run-dir")
    parser.add_argument("--seed", type=int, default=0, help="weight initialisation and dropout seed")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON results file (default: results/ptb_word_lm.json, ..._seedN.json for seed N > 0)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    data_dir = args.data_dir or (shared_data_dir() / "ptb" if shared_data_dir() else None)
    if data_dir is None or not (data_dir / "ptb.train.txt").is_file():
        print("error: PTB not found; pass --data-dir (a folder with ptb.train.txt)", file=sys.stderr)
        return 2
    train, valid, test = (read_corpus_text(data_dir / f"ptb.{split}.txt") for split in ("train", "valid", "test"))
    epochs = args.epochs
    if args.quick:
        train, valid, test = ("\n".join(text.split("\n")[:lines]) for text, lines in
                              ((train, 1500), (valid, 100), (test, 100)))
        epochs = 1
    name = ("ptb_word_lm_quick" if args.quick else "ptb_word_lm") + (f"_seed{args.seed}" if args.seed else "")
    output = args.output or RESULTS / f"{name}.json"
    run_dir = args.run_dir or Path("/tmp") / f"textmodels_{name}"
    config = dict(level="word", cell="lstm", layers=2, units=200, batch_size=20, num_steps=20, dropout=0.0,
                  optimizer="sgd", learning_rate=1.0 * 20, clipnorm=5.0 / 20, lr_decay=0.5, decay_after=4,
                  init_scale=0.1, seed=args.seed)
    report = {
        "benchmark": "ptb_word_lm (Zaremba et al. 2014, small)",
        "command": "python benchmarks/ptb_word_lm.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "quick": args.quick,
        "config": {**config, "epochs": epochs, "note": "lr 20 / clip 0.25 on the per-token mean loss = "
                   "lr 1 / clip 5 on Zaremba's loss summed over 20 steps"},
        "machine": machine_description(),
        "keras_backend": keras.backend.backend(),
        "epochs": [],
        "published_test_perplexity": PUBLISHED_TEST_PERPLEXITY,
    }
    started = time.monotonic()
    result = train_language_model(
        train, run_dir, valid_text=valid, epochs=epochs, resume=args.resume, verbose=2,
        time_budget_seconds=args.time_budget_minutes * 60 if args.time_budget_minutes else None,
        callbacks=[EpochRecorder(report, output, {"train_perplexity": "perplexity",
                                                   "valid_perplexity": "val_perplexity"},
                                 record_learning_rate=True)], **config,
    )
    train_seconds = time.monotonic() - started
    test = evaluate_language_model(result.model, test)
    valid_score = evaluate_language_model(result.model, valid)
    report.update(
        epochs_completed=result.epochs_completed,
        last_epoch_partial=result.stopped_by_time_budget,
        train_wall_minutes=round(train_seconds / 60, 2),
        total_wall_minutes=round((time.monotonic() - started) / 60, 2),
        vocabulary_size=result.model.vocabulary_size,
        valid_perplexity=valid_score.perplexity,
        test_perplexity=test.perplexity,
        test_tokens=test.tokens,
        target_met=(not args.quick and result.epochs_completed >= epochs and not result.stopped_by_time_budget
                    and test.perplexity <= PUBLISHED_TEST_PERPLEXITY),
    )
    write_report(report, output)
    print()
    print(f"{'epoch':>5} {'lr':>8} {'train ppl':>10} {'valid ppl':>10} {'wall s':>8}")
    for row in report["epochs"]:
        print(f"{row['epoch']:>5} {row['learning_rate']:>8.4g} {row['train_perplexity']:>10.2f} "
              f"{row['valid_perplexity']:>10.2f} {row['wall_seconds_so_far']:>8.0f}")
    partial = " (training stopped by the time budget)" if result.stopped_by_time_budget else ""
    print(f"test perplexity {test.perplexity:.2f} over {test.tokens} tokens after {result.epochs_completed} "
          f"epoch(s){partial}; published {PUBLISHED_TEST_PERPLEXITY}; train wall time "
          f"{train_seconds / 60:.1f} min -> {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
