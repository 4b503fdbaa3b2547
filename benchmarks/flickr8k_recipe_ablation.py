"""Flickr8k recipe ablation for the ``first_step`` captioner: one change at a time against the photo recipe, scored
on the validation split (the test split stays untouched until the recipe is chosen).

Every variant trains the same decoder on the cached MobileNetV2 features (see benchmarks/flickr8k_captioning.py)
with `captioner.config.PHOTO_DECODER` plus its own overrides, without an epoch cap that binds: training ends when
the validation loss has not improved for ``patience`` epochs. Each is scored on the 1,000 validation photos with
greedy decoding and with beam 3 (BLEU-4, METEOR, CIDEr-D); the trained model is kept in the work folder. Results
are written after every variant, so an interrupted run keeps what it finished; variants already in the file are
skipped unless --rerun.

Example:
    .venv/bin/python benchmarks/flickr8k_recipe_ablation.py --variants base,standardize,lstm
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

from captioner.api import Captioner  # noqa: E402
from captioner.config import PHOTO_DECODER  # noqa: E402
from captioner.data import read_coco  # noqa: E402
from captioner.evaluation import evaluate_captioner  # noqa: E402
from captioner.photo_demo import feature_cache, photo_config  # noqa: E402
from captioner.training import train_captioner  # noqa: E402
from textmodels.data.paths import shared_data_dir  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
WEIGHTS_FILE = "mobilenet_v2_1.00_224_imagenet_from_tflite_no_top.weights.h5"
# The base: PHOTO_DECODER with a cap far above where early stopping ends it.
BASE = {"inject": "first_step", "epochs": 60}
# One change each against BASE. PHOTO_DECODER is Tanti et al.'s recipe, which changed five settings of the earlier
# recipe at once; the first five variants each undo one of them (leave one out), the rest try something more.
VARIANTS = {
    "base": {},
    "standardize": {"feature_normalization": "standardize"},
    "dropout_0.3": {"dropout": 0.3},
    "embedding_256": {"embedding_dim": 256},
    "lstm": {"cell": "lstm"},
    "adam_3e-3": {"learning_rate": 3e-3},
    "standardize_l2": {"feature_normalization": "standardize_l2"},
    "units_512": {"units": 512},
    "patience_0": {"patience": 0},
    "epochs_15": {"epochs": 15},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated variants, each NAME or NAME+NAME (known: {', '.join(VARIANTS)})")
    parser.add_argument("--seed", type=int, default=0, help="seed of every run")
    parser.add_argument("--work-dir", type=Path, default=Path("runs/flickr8k"),
                        help="feature cache (shared with flickr8k_captioning.py) and the trained .keras files")
    parser.add_argument("--output", type=Path, default=RESULTS / "flickr8k_recipe_ablation.json",
                        help="results JSON")
    parser.add_argument("--rerun", action="store_true", help="train variants already in the results file again")
    args = parser.parse_args()

    data = shared_data_dir()
    folder = data / "flickr8k" if data else None
    if folder is None or not (folder / "captions_flickr8k.json").is_file():
        sys.exit("needs ../shared/data/flickr8k (captions_flickr8k.json and images_224/)")
    weights = str(data / "weights" / WEIGHTS_FILE)
    records = read_coco(folder / "captions_flickr8k.json", folder / "images_224")
    work = args.work_dir / "full"
    cache, _ = feature_cache(records, photo_config("mobilenet_v2", weights), work / "mobilenet_v2_features")
    report = json.loads(args.output.read_text()) if args.output.is_file() else {}
    report.update({"benchmark": "flickr8k_recipe_ablation", "split": "val (1,000 photos, 5 references)",
                   "base": {**PHOTO_DECODER, **BASE}, "backend": os.environ.get("KERAS_BACKEND", "tensorflow")})
    report.setdefault("variants", {})
    for name in args.variants.split(","):
        key = f"{name}:{args.seed}"
        if key in report["variants"] and not args.rerun:
            print(f"{key}: already in {args.output}, skipped")
            continue
        overrides = dict(BASE)
        for part in name.split("+"):
            overrides.update(VARIANTS[part])
        config = replace(photo_config("mobilenet_v2", weights, args.seed), **overrides)
        started = time.perf_counter()
        result = train_captioner(records, config, features=cache, verbose=2)
        trained = time.perf_counter() - started
        Captioner(result.model).save(work / f"ablation_{name}_{args.seed}.keras")
        row = {"overrides": {k: v for k, v in overrides.items() if k not in BASE or BASE[k] != v},
               "epochs_run": len(result.history["loss"]),
               "best_val_loss": round(min(result.history["val_loss"]), 4), "train_seconds": round(trained, 1)}
        for beam in (1, 3):
            scores = evaluate_captioner(result.model, records, split="val", features=cache, beam_size=beam)
            captions = list(scores.captions.values())
            row[f"beam_{beam}"] = {**{m: round(scores.metrics[m], 4) for m in ("bleu4", "meteor", "cider")},
                                   "distinct_captions": len(set(captions)),
                                   "mean_length": round(sum(len(c.split()) for c in captions) / len(captions), 2)}
        report["variants"][key] = row
        args.output.parent.mkdir(parents=True, exist_ok=True)
        temporary = args.output.with_suffix(".tmp")
        temporary.write_text(json.dumps(report, indent=2) + "\n")
        os.replace(temporary, args.output)
        print(key, json.dumps(row), flush=True)
    print("| variant | epochs | val loss | greedy BLEU-4 | greedy CIDEr-D | beam 3 BLEU-4 | METEOR | CIDEr-D |")
    print("|---|---|---|---|---|---|---|---|")
    for key, row in report["variants"].items():
        g, b = row["beam_1"], row["beam_3"]
        print(f"| {key} | {row['epochs_run']} | {row['best_val_loss']} | {g['bleu4']} | {g['cider']} | "
              f"{b['bleu4']} | {b['meteor']} | {b['cider']} |")


if __name__ == "__main__":
    main()
