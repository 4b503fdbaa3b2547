"""Flickr8k (1,000-image subset, official split): BLEU-1..4, CIDEr-D, ROUGE-L (and METEOR) on the 125 test images
for each image-injection mode and for the image-blind baseline.

The encoder is the small VGG-style network trained FROM SCRATCH, end to end with the decoder, on the 753
training images at 64x64 px: no ImageNet weights are available offline. Published Flickr8k figures (e.g.
BLEU-4 16.0, Karpathy & Fei-Fei 2015) use ImageNet-trained CNNs and 6,000 training images, so expect far less
here; the comparison that matters is each mode against the image-blind baseline on the same split. Metrics are
pycocoevalcap's (PTB tokenizer and METEOR need Java; without it METEOR is skipped and noted).

Example:
    .venv/bin/python benchmarks/flickr8k_captioning.py --quick
    .venv/bin/python benchmarks/flickr8k_captioning.py --epochs 6
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from captioner.config import CaptionerConfig  # noqa: E402
from captioner.data import read_coco  # noqa: E402
from captioner.decoder import INJECT_MODES  # noqa: E402
from captioner.evaluation import evaluate_captioner  # noqa: E402
from captioner.training import train_captioner  # noqa: E402
from textmodels.data.paths import shared_data_dir  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
METRICS = ("bleu1", "bleu2", "bleu3", "bleu4", "cider", "rouge_l", "meteor")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--modes", default=",".join(INJECT_MODES), help="comma-separated inject modes")
    parser.add_argument("--quick", action="store_true", help="2 epochs, first_step and the blind baseline only")
    parser.add_argument("--output", type=Path, default=None, help="JSON results file (default: benchmarks/results/)")
    args = parser.parse_args()
    epochs = 2 if args.quick else args.epochs
    modes = ["first_step"] if args.quick else args.modes.split(",")

    data = shared_data_dir()
    folder = data / "flickr8k_1k" if data else None
    if folder is None or not (folder / "captions_flickr8k_1k.json").is_file():
        sys.exit("needs ../shared/data/flickr8k_1k (captions_flickr8k_1k.json and images_256px/)")
    records = read_coco(folder / "captions_flickr8k_1k.json", folder / "images_256px")
    split_sizes = {split: sum(r.split == split for r in records) for split in ("train", "val", "test")}
    base = CaptionerConfig(
        encoder="small", image_size=64, conv_filters=(16, 32, 64, 128), feature_dim=4096, embedding_dim=128,
        units=256, cell="lstm", min_count=5, max_length=20, batch_size=32, epochs=epochs, patience=2,
        learning_rate=1e-3, seed=0,
    )
    runs = [(mode, replace(base, inject=mode)) for mode in modes] + [("image-blind", replace(base, image_blind=True))]
    rows = []
    for name, config in runs:
        started = time.perf_counter()
        result = train_captioner(records, config, verbose=2)
        report = evaluate_captioner(result.model, records, split="test", beam_size=3)
        rows.append({
            "model": name,
            **{key: None if report.metrics.get(key) is None else round(report.metrics[key], 4) for key in METRICS},
            "epochs_run": len(result.history.get("loss", [])),
            "best_val_loss": round(min(result.history.get("val_loss", [float("nan")])), 4),
            "seconds": round(time.perf_counter() - started, 1),
            "example": {record.image_path.name: report.captions[record.image_id]
                        for record in [r for r in records if r.split == "test"][:3]},
            "warnings": report.metrics.get("warnings", []),
        })
        print(json.dumps(rows[-1]), flush=True)

    summary = {
        "benchmark": "flickr8k_captioning",
        "data": "Flickr8k 1k subset, official split",
        "split_sizes": split_sizes,
        "encoder": "small VGG-style CNN (16-32-64-128 conv blocks -> dense 4096) trained from scratch, 64x64 px; "
                   "no ImageNet weights",
        "decoder": "LSTM 256, embedding 128, vocabulary min count 5, beam 3",
        "epochs_max": epochs,
        "rows": rows,
        "command": "python benchmarks/flickr8k_captioning.py " + " ".join(sys.argv[1:]),
    }
    output = args.output or RESULTS / ("flickr8k_captioning_quick.json" if args.quick else "flickr8k_captioning.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(summary, indent=2) + "\n")
    header = "| model | BLEU-1 | BLEU-2 | BLEU-3 | BLEU-4 | CIDEr-D | ROUGE-L | METEOR |"
    print(header + "\n|" + "---|" * 8)
    for row in rows:
        cells = [row[key] for key in ("bleu1", "bleu2", "bleu3", "bleu4", "cider", "rouge_l", "meteor")]
        print(f"| {row['model']} | " + " | ".join("n/a" if c is None else f"{c:.3f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
