"""tiny-shakespeare character-level language model under a wall-time budget.

The last 10 % of ``input.txt`` is held out; the rest is one training stream (truncated BPTT, state carried
across windows). Reported: the exact held-out loss in nats per character and bits per character (total NLL
over every held-out character, read as one stream), after every epoch and at the end, and generated samples.
Target: <= 1.45 nats (about 2.09 bits) within 60 minutes of CPU training.

Example:
    .venv/bin/python benchmarks/char_lm_shakespeare.py --quick
    nice -n 10 .venv/bin/python benchmarks/char_lm_shakespeare.py --time-budget-minutes 60
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lm_reporting import EpochRecorder, machine_description, write_report  # noqa: E402

from textmodels.data.paths import shared_data_dir  # noqa: E402
from textmodels.data.text_files import read_corpus_text  # noqa: E402
from textmodels.language_model.perplexity import evaluate_language_model  # noqa: E402
from textmodels.language_model.text_generator import TextGenerator  # noqa: E402
from textmodels.language_model.training import train_language_model  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_NATS = 1.45


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="tinyshakespeare input.txt")
    parser.add_argument("--epochs", type=int, default=50, help="upper bound; the time budget usually ends the run")
    parser.add_argument("--time-budget-minutes", type=float, default=60.0)
    parser.add_argument("--hidden", type=int, default=384)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--num-steps", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--lr-decay", type=float, default=0.85,
                        help="multiply the learning rate by this every epoch after --decay-after")
    parser.add_argument("--decay-after", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="first 60k characters, tiny model, 1 epoch")
    parser.add_argument("--run-dir", type=Path, default=None)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    data = args.data or (shared_data_dir() / "tinyshakespeare" / "input.txt" if shared_data_dir() else None)
    if data is None or not data.is_file():
        print("error: tiny-shakespeare not found; pass --data", file=sys.stderr)
        return 2
    text = read_corpus_text(data)
    if args.quick:
        text = text[:60_000]
        args.epochs, args.hidden, args.batch_size, args.num_steps, args.time_budget_minutes = 1, 64, 32, 50, 5
    split = int(len(text) * 0.9)
    train, held_out = text[:split], text[split:]
    config = dict(level="char", cell="lstm", layers=args.layers, units=args.hidden, embedding_dim=64,
                  dropout=args.dropout, batch_size=args.batch_size, num_steps=args.num_steps,
                  optimizer="adam", learning_rate=args.learning_rate, clipnorm=5.0,
                  lr_decay=args.lr_decay, decay_after=args.decay_after)
    output = args.output or RESULTS / ("char_lm_shakespeare_quick.json" if args.quick else "char_lm_shakespeare.json")
    report = {
        "benchmark": "char_lm_shakespeare (last 10% held out)",
        "command": "python benchmarks/char_lm_shakespeare.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "config": {**config, "time_budget_minutes": args.time_budget_minutes, "max_epochs": args.epochs},
        "machine": machine_description(),
        "train_characters": len(train),
        "held_out_characters": len(held_out),
        "epochs": [],
        "target_nats": TARGET_NATS,
    }
    run_dir = args.run_dir or Path("/tmp") / ("textmodels_char_quick" if args.quick else "textmodels_char_lm")
    recorder = EpochRecorder(report, output, {"train_nats": "loss", "valid_nats": "val_loss",
                                              "valid_bits_per_char": "val_bits_per_char"})
    started = time.monotonic()
    result = train_language_model(
        train, run_dir, valid_text=held_out, epochs=args.epochs, verbose=2,
        time_budget_seconds=args.time_budget_minutes * 60, callbacks=[recorder], **config,
    )
    train_seconds = time.monotonic() - started
    score = evaluate_language_model(result.model, held_out)
    generator = TextGenerator(result.model)
    samples = [generator.generate(prime=prime, max_tokens=300, temperature=0.8, seed=0).full_text
               for prime in ("ROMEO:\n", "First Citizen:\n")]
    report.update(
        epochs_completed=result.epochs_completed,
        last_epoch_partial=result.stopped_by_time_budget,
        train_wall_minutes=round(train_seconds / 60, 2),
        valid_nats=score.nats_per_token,
        valid_bits_per_char=score.bits_per_char,
        valid_characters=score.tokens,
        target_met=(not args.quick and score.nats_per_token <= TARGET_NATS and train_seconds <= 3600),
        samples={"temperature": 0.8, "seed": 0, "texts": samples},
    )
    write_report(report, output)
    print(f"\n{'epoch':>5} {'train nats':>10} {'valid nats':>10} {'valid bpc':>10} {'wall s':>8}")
    for row in report["epochs"]:
        print(f"{row['epoch']:>5} {row['train_nats']:>10.3f} {row['valid_nats']:>10.3f} "
              f"{row['valid_bits_per_char']:>10.3f} {row['wall_seconds_so_far']:>8.0f}")
    print(f"held-out: {score.nats_per_token:.3f} nats = {score.bits_per_char:.3f} bits per character over "
          f"{score.tokens} characters after {train_seconds / 60:.1f} min of training (target <= {TARGET_NATS} nats)")
    print("sample:\n" + samples[0])
    print(f"-> {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
