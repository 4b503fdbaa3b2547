"""Why `first_step` ignored the photo before the features were standardised: the image's share of step 0's gate
pre-activations, with and without the standardisation (a probe on a Flickr8k subset, not the benchmark).

Trains `first_step` on the first N train photos (default 1,500) for a few epochs with the photo recipe, twice:
on the raw features (``standardize_features=False``) and on features centred and scaled with the training
photos' statistics (the default). Reports the image's contribution ``V'·P·img`` to the step-0 pre-activations
(mean |z|, and its spread across photos) and greedy BLEU-4 / CIDEr-D on the first 300 val photos. Needs the
MobileNetV2 feature cache of `flickr8k_captioning.py` (built when missing).

Example:
    .venv/bin/python benchmarks/first_step_saturation.py --train-photos 1500 --epochs 5
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

from captioner.data import read_coco  # noqa: E402
from captioner.evaluation import evaluate_captioner  # noqa: E402
from captioner.photo_demo import feature_cache  # noqa: E402
from captioner.training import train_captioner  # noqa: E402
from textmodels.data.paths import shared_data_dir  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from flickr8k_captioning import WEIGHTS_FILE, decoder_config  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "first_step_saturation.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-photos", type=int, default=1500)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--work-dir", type=Path, default=Path("runs/flickr8k"))
    args = parser.parse_args()
    data = shared_data_dir()
    if data is None or not (data / "flickr8k" / "captions_flickr8k.json").is_file():
        sys.exit("needs ../shared/data/flickr8k")
    records = read_coco(data / "flickr8k" / "captions_flickr8k.json", data / "flickr8k" / "images_224")
    train_ids = sorted({r.image_id for r in records if r.split == "train"})[: args.train_photos]
    val_ids = sorted({r.image_id for r in records if r.split == "val"})[:300]
    keep = set(train_ids) | set(val_ids)
    subset = [r for r in records if r.image_id in keep]
    config = replace(decoder_config(data / "weights" / WEIGHTS_FILE, args.epochs, 0), inject="first_step")
    cache, _ = feature_cache(records, config, args.work_dir / "full" / "mobilenet_v2_features")
    val_features = cache.read(val_ids).astype("float32")
    report = {"train_photos": len(train_ids), "val_photos": len(val_ids), "epochs": args.epochs, "variants": {}}
    for variant in ("raw", "standardised"):
        started = time.perf_counter()
        normalization = "standardize" if variant == "standardised" else "none"
        result = train_captioner(subset, replace(config, feature_normalization=normalization),
                                 features=cache, verbose=0)
        decoder = result.model.decoder
        context = keras.ops.convert_to_numpy(decoder.image_projection(decoder.normalize(val_features)))
        injection_kernel = keras.ops.convert_to_numpy(decoder.rnn.weights[0])[decoder.embedding_dim :]
        z = context @ injection_kernel
        val = evaluate_captioner(result.model, subset, split="val", features=cache, beam_size=1, use_java=False)
        report["variants"][variant] = {
            "step0_image_mean_abs": round(float(np.abs(z).mean()), 2),
            "step0_image_spread_across_photos": round(float(z.std(0).mean()), 2),
            "bleu4": round(val.metrics["bleu4"], 4), "cider": round(val.metrics["cider"], 4),
            "val_loss": [round(v, 4) for v in result.history["val_loss"]],
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(variant, json.dumps(report["variants"][variant]), flush=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
