"""Why the small VGG-style CNN trained end to end collapsed to the image-blind baseline's one sentence on Flickr8k,
measured on a subset (a probe, not the benchmark).

Trains `first_step` end to end from pixels (64 px) on the first N train photos for a few epochs, with the encoder's
final ReLU (every earlier small encoder) or linear, batch-normalised features, each with the raw feature or its
L2-normalised form entering the projection, plus the image-blind baseline on the same photos. For each it reports
the features' statistics on 300 val photos (share of zeros, mean, spread across photos), the image's contribution
``V'·P·img`` to the step-0 gate pre-activations (mean |z| and its spread across photos: a large shared |z| with
little spread saturates the gates, so the step-0 state barely depends on the photo), the validation loss, the greedy
BLEU-4 / CIDEr-D and the number of distinct captions.

Example:
    .venv/bin/python benchmarks/small_cnn_collapse.py --train-photos 1500 --epochs 4
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

import keras  # noqa: E402
import numpy as np  # noqa: E402

from captioner.config import PHOTO_DECODER, CaptionerConfig  # noqa: E402
from captioner.data import read_coco  # noqa: E402
from captioner.data.images import load_images  # noqa: E402
from captioner.evaluation import evaluate_captioner  # noqa: E402
from captioner.training import train_captioner  # noqa: E402
from textmodels.data.paths import shared_data_dir  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "small_cnn_collapse.json"
VARIANTS = {"relu": {"feature_activation": "relu"}, "linear": {"feature_activation": "linear"},
            "linear_l2": {"feature_activation": "linear", "feature_normalization": "l2"},
            "relu_l2": {"feature_activation": "relu", "feature_normalization": "l2"},
            "image_blind": {"image_blind": True}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-photos", type=int, default=1500, help="first N photos of the train split")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per variant")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    args = parser.parse_args()
    data = shared_data_dir()
    if data is None or not (data / "flickr8k" / "captions_flickr8k.json").is_file():
        sys.exit("needs ../shared/data/flickr8k")
    records = read_coco(data / "flickr8k" / "captions_flickr8k.json", data / "flickr8k" / "images_224")
    train_ids = sorted({r.image_id for r in records if r.split == "train"})[: args.train_photos]
    val_records = [r for r in records if r.split == "val"][:300]
    keep = set(train_ids) | {r.image_id for r in val_records}
    subset = [r for r in records if r.image_id in keep]
    base = replace(CaptionerConfig(**PHOTO_DECODER), encoder="small", image_size=64, conv_filters=(16, 32, 64, 128),
                   feature_dim=4096, train_encoder=True, inject="first_step", epochs=args.epochs, patience=None)
    val_images, _ = load_images([r.image_path for r in val_records], size=(64, 64))
    report = {"train_photos": len(train_ids), "val_photos": len(val_records), "epochs": args.epochs,
              "recipe": {k: v for k, v in vars(base).items() if k != "weights"}, "variants": {}}
    if RESULTS.is_file():
        report["variants"] = json.loads(RESULTS.read_text()).get("variants", {})
    for name in args.variants.split(","):
        started = time.perf_counter()
        result = train_captioner(subset, replace(base, **VARIANTS[name]), verbose=2)
        model = result.model
        row = {"val_loss": [round(v, 4) for v in result.history["val_loss"]]}
        if not model.image_blind:
            features = keras.ops.convert_to_numpy(model.encoder(val_images, training=False))
            decoder = model.decoder
            context = keras.ops.convert_to_numpy(decoder.image_projection(decoder.normalize(features)))
            z = context @ keras.ops.convert_to_numpy(decoder.rnn.weights[0])[decoder.embedding_dim:]
            row.update({
                "feature_zero_share": round(float((features == 0).mean()), 3),
                "feature_mean": round(float(features.mean()), 3),
                "feature_spread_across_photos": round(float(features.std(0).mean()), 3),
                "step0_image_mean_abs": round(float(np.abs(z).mean()), 2),
                "step0_image_spread_across_photos": round(float(z.std(0).mean()), 2),
            })
        val = evaluate_captioner(model, subset, split="val", beam_size=1, use_java=False)
        row.update({"bleu4": round(val.metrics["bleu4"], 4), "cider": round(val.metrics["cider"], 4),
                    "distinct_captions": len(set(val.captions.values())),
                    "seconds": round(time.perf_counter() - started, 1)})
        report["variants"][name] = row
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")
        print(name, json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
