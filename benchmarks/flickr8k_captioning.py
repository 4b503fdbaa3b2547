"""Flickr8k, official split (6,000 train / 1,000 val / 1,000 test photos, 5 references each): COCO caption metrics
for every image-injection mode on ImageNet MobileNetV2 features, the image-blind baseline, and the small VGG-style
CNN trained end to end from scratch.

Each run trains the decoder on cached 1280-d MobileNetV2 features (global average pool; the ImageNet weights file
in ../shared/data/weights), with dropout on embeddings and recurrent outputs, the learning rate halved when the
validation loss stalls, and early stopping on the validation loss. The beam width and length penalty are then
chosen by CIDEr-D on the validation split, and the test split is scored once with that choice (BLEU-1..4,
METEOR, ROUGE-L, CIDEr-D; pycocoevalcap, Java). Results are written after every run, so an interrupted benchmark
keeps what it finished; runs already in the results file are skipped unless --rerun.

Example:
    .venv/bin/python benchmarks/flickr8k_captioning.py --runs first_step:0,image_blind:0
    .venv/bin/python benchmarks/flickr8k_captioning.py            # every run (hours on 2 CPU cores)
    .venv/bin/python benchmarks/flickr8k_captioning.py --quick    # 300 photos, 2 epochs: checks the script
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
from captioner.config import PHOTO_DECODER, CaptionerConfig  # noqa: E402
from captioner.data import read_coco  # noqa: E402
from captioner.evaluation import evaluate_captioner  # noqa: E402
from captioner.photo_demo import feature_cache, photo_config  # noqa: E402
from captioner.training import train_captioner  # noqa: E402
from captioner.tuning import tune_decoding  # noqa: E402
from textmodels.data.paths import shared_data_dir  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
METRICS = ("bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rouge_l", "cider")
ALL_RUNS = ("first_step:0,first_step:1,first_step:2,image_blind:0,image_blind:1,image_blind:2,"
            "init_state:0,pre_inject:0,par_inject:0,merge:0,small_cnn:0,small_cnn_concepts:0,first_step+scst:0,"
            "init_state+scst:0")
# A run named "MODE+scst" fine-tunes the cross-entropy model of run "MODE" (same seed, its .keras file in the work
# folder) with self-critical training on CIDEr-D (captioner.self_critical, its default settings).
SELF_CRITICAL_SUFFIX = "+scst"
WEIGHTS_FILE = "mobilenet_v2_1.00_224_imagenet_from_tflite_no_top.weights.h5"
# Published Flickr8k test figures (VGG16 fc7 ImageNet features, LSTM, mean of 3 runs): Tanti, Gatt & Camilleri
# 2018, from the authors' results file.
PUBLISHED = {
    "init-inject": {"bleu4": 0.191, "meteor": 0.194, "cider": 0.481},
    "pre-inject": {"bleu4": 0.190, "meteor": 0.191, "cider": 0.469},
    "par-inject": {"bleu4": 0.191, "meteor": 0.193, "cider": 0.475},
    "merge": {"bleu4": 0.178, "meteor": 0.193, "cider": 0.469},
}


def decoder_config(weights: Path, epochs: int, seed: int) -> CaptionerConfig:
    """The recipe every feature-based run shares (only the injection mode or image-blindness differ)."""
    return photo_config("mobilenet_v2", str(weights), seed, epochs=epochs)


def run_config(name: str, base: CaptionerConfig) -> tuple[CaptionerConfig, bool]:
    """``(config, uses_features)`` of run ``name``."""
    if name == "image_blind":
        return replace(base, image_blind=True), True
    if name == "small_cnn":
        # End to end from pixels, streamed per batch; 64 px keeps an epoch of 6,000 photos within minutes. Linear
        # features, L2-normalised before the projection: the final ReLU's all-positive features saturated step 0's
        # gates and the model collapsed to the image-blind sentence (benchmarks/small_cnn_collapse.py).
        return replace(base, encoder="small", weights=None, image_size=64, conv_filters=(16, 32, 64, 128),
                       feature_dim=4096, train_encoder=True, feature_activation="linear",
                       feature_normalization="l2"), False
    if name == "small_cnn_concepts":
        # The small CNN first learns from the pixels which words the photos' captions use (concept pretraining,
        # captioner.encoder.concept_pretraining), then stays fixed while the decoder learns to caption.
        return replace(base, encoder="small", weights=None, image_size=64, conv_filters=(16, 32, 64, 128),
                       feature_dim=4096, concept_epochs=30, train_encoder=False), False
    return replace(base, inject=name), True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=ALL_RUNS, help="comma-separated NAME:SEED (names: first_step, "
                        "init_state, pre_inject, par_inject, merge, image_blind, small_cnn, small_cnn_concepts)")
    parser.add_argument("--epochs", type=int, default=PHOTO_DECODER["epochs"],
                        help="most epochs per run (early stopping ends sooner)")
    parser.add_argument("--work-dir", type=Path, default=Path("runs/flickr8k"),
                        help="feature cache and the trained .keras files")
    parser.add_argument("--output", type=Path, default=None, help="results JSON (default: benchmarks/results/)")
    parser.add_argument("--rerun", action="store_true", help="train runs already in the results file again")
    parser.add_argument("--from-saved", action="store_true",
                        help="runs whose .keras file exists in --work-dir are scored, not trained again")
    parser.add_argument("--scst-learning-rate", type=float, default=None,
                        help="learning rate of the +scst runs (default: SelfCriticalConfig's)")
    parser.add_argument("--scst-epochs", type=int, default=None, help="most epochs of the +scst runs")
    parser.add_argument("--quick", action="store_true", help="300 photos, 2 epochs: checks the script end to end")
    args = parser.parse_args()

    data = shared_data_dir()
    folder = data / "flickr8k" if data else None
    if folder is None or not (folder / "captions_flickr8k.json").is_file():
        sys.exit("needs ../shared/data/flickr8k (captions_flickr8k.json and images_224/)")
    weights = data / "weights" / WEIGHTS_FILE
    records = read_coco(folder / "captions_flickr8k.json", folder / "images_224")
    epochs = args.epochs
    if args.quick:
        records = [r for r in records if r.split == "train"][:200] + [r for r in records if r.split == "val"][:50] \
            + [r for r in records if r.split == "test"][:50]
        epochs = 2
    split_sizes = {split: sum(r.split == split for r in records) for split in ("train", "val", "test")}
    output = args.output or RESULTS / ("flickr8k_captioning_quick.json" if args.quick else "flickr8k_captioning.json")
    report = json.loads(output.read_text()) if output.is_file() else {}
    report.update({
        "benchmark": "flickr8k_captioning",
        "data": "Flickr8k official split (224x224 photos), 5 references per photo",
        "split_sizes": split_sizes,
        "encoder": "keras.applications.MobileNetV2 (alpha 1.0), ImageNet weights dequantized from int8 TFLite, "
                   "global average pool, 1280-d, frozen (features cached once)",
        "recipe": {key: value for key, value in vars(decoder_config(weights, epochs, 0)).items()
                   if key not in ("weights", "seed")},
        "decoding_grid": {"beam_sizes": [1, 3, 5], "length_penalties": [0.0, 0.5, 1.0], "chosen_by": "val CIDEr-D"},
        "published": PUBLISHED,
        "command": "python benchmarks/flickr8k_captioning.py " + " ".join(sys.argv[1:]),
    })
    report.setdefault("runs", {})
    work = args.work_dir / ("quick" if args.quick else "full")
    cache, errors = feature_cache(records, decoder_config(weights, epochs, 0), work / "mobilenet_v2_features")
    for image_id, message in errors.items():
        print(f"unreadable: {image_id}: {message}", file=sys.stderr)
    for item in args.runs.split(","):
        name, _, seed = item.partition(":")
        key = f"{name}:{int(seed or 0)}"
        if key in report["runs"] and not args.rerun:
            print(f"{key}: already in {output}, skipped (--rerun trains it again)")
            continue
        recipe = decoder_config(weights, epochs, int(seed or 0))
        config, uses_features = run_config(name.removesuffix(SELF_CRITICAL_SUFFIX), recipe)
        started = time.perf_counter()
        model_path = work / f"{name}_{int(seed or 0)}.keras"
        scst_history = None
        if args.from_saved and model_path.is_file():
            # Trained earlier (the file is written before decoding is tuned): only choose the decoding and score.
            model, history, trained = Captioner.load(model_path).model, {}, None
        elif name.endswith(SELF_CRITICAL_SUFFIX):
            from captioner.self_critical import finetune_self_critical
            from captioner.self_critical_config import SelfCriticalConfig

            start_from = work / f"{name.removesuffix(SELF_CRITICAL_SUFFIX)}_{int(seed or 0)}.keras"
            if not start_from.is_file():
                sys.exit(f"{key}: needs the cross-entropy model {start_from} (run {name.removesuffix('+scst')} first)")
            overrides = {"learning_rate": args.scst_learning_rate, "epochs": args.scst_epochs,
                         "seed": int(seed or 0)}
            scst_config = SelfCriticalConfig(**{k: v for k, v in overrides.items() if v is not None})
            report["self_critical_recipe"] = vars(scst_config)
            result = finetune_self_critical(Captioner.load(start_from).model, records, scst_config, features=cache,
                                            run_dir=work / f"{name}_{int(seed or 0)}.run", progress=False)
            model, trained = result.model, round(time.perf_counter() - started, 1)
            history = {}
            scst_history = {key: [round(float(v), 4) for v in values] for key, values in result.history.items()}
            Captioner(model).save(model_path)
        else:
            result = train_captioner(records, config, features=cache if uses_features else None, verbose=2)
            model, history, trained = result.model, result.history, round(time.perf_counter() - started, 1)
            Captioner(model).save(model_path)
        features = cache if uses_features else None
        choice = tune_decoding(model, records, features=features, beam_sizes=(1, 3, 5),
                               length_penalties=(0.0, 0.5, 1.0))
        test = evaluate_captioner(model, records, split="test", features=features, **choice.best)
        test_records = [r for r in records if r.split == "test"]
        captions = list(test.captions.values())
        report["runs"][key] = {
            **{metric: None if test.metrics.get(metric) is None else round(test.metrics[metric], 4)
               for metric in METRICS},
            # A collapse onto a few safe sentences shows here before it shows in the n-gram metrics.
            "distinct_captions": len(set(captions)),
            "mean_length": round(sum(len(caption.split()) for caption in captions) / len(captions), 2),
            "decoding": choice.best,
            # What this run changes in the shared recipe (the report's "recipe").
            "settings": {key: value for key, value in vars(config).items() if vars(recipe)[key] != value},
            "val_grid": [{k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
                         for row in choice.table],
            "epochs_run": len(history.get("loss", [])) or None,
            "best_val_loss": round(min(history["val_loss"]), 4) if history.get("val_loss") else None,
            "train_seconds": trained,
            "total_seconds": round(time.perf_counter() - started, 1),
            "vocabulary": len(model.text_encoder.vocabulary),
            **({"self_critical_history": scst_history} if scst_history else {}),
            "model_file": str(model_path),
            "examples": {r.image_path.name: test.captions[r.image_id] for r in test_records[:5]},
        }
        output.parent.mkdir(parents=True, exist_ok=True)
        temporary = output.with_suffix(".tmp")
        temporary.write_text(json.dumps(report, indent=2) + "\n")
        os.replace(temporary, output)
        print(key, json.dumps(report["runs"][key]), flush=True)
    print_table(report)


def print_table(report: dict) -> None:
    """Mean +- std over seeds per run name, as a Markdown table."""
    import numpy as np

    names: dict[str, list] = {}
    for key, row in report["runs"].items():
        names.setdefault(key.partition(":")[0], []).append(row)
    print("| run | seeds | " + " | ".join(METRICS) + " |\n|" + "---|" * (len(METRICS) + 2))
    for name, rows in names.items():
        cells = []
        for metric in METRICS:
            values = [row[metric] for row in rows if row[metric] is not None]
            if not values:
                cells.append("n/a")
            elif len(values) == 1:
                cells.append(f"{values[0]:.3f}")
            else:
                cells.append(f"{np.mean(values):.3f} ± {np.std(values):.3f}")
        print(f"| {name} | {len(rows)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
