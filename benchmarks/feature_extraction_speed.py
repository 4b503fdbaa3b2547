"""Feature extraction speed: images/s of the full pipeline (JPEG files -> tf.data parallel decode and resize ->
the encoder -> on-disk feature cache) against the bare encoder on in-memory tensors. Target: >= 0.9x.

The encoder is MobileNetV2 by default (its ImageNet weights from the shared data folder when present; speed does
not depend on the values, so any --encoder runs with random weights otherwise). The photos are the Flickr8k
JPEGs of the shared data folder (224 px). Each measurement is repeated, interleaved, and the fastest run kept,
because the CPU is shared with other jobs.

Example:
    .venv/bin/python benchmarks/feature_extraction_speed.py --quick
    .venv/bin/python benchmarks/feature_extraction_speed.py --encoder mobilenet_v2 --images 256
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from lm_reporting import machine_description  # noqa: E402

from captioner.encoder import (  # noqa: E402
    BACKBONES,
    FeatureCache,
    build_encoder,
    encoder_config,
    extract_features,
)
from textmodels.data.paths import shared_data_dir  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", choices=sorted(BACKBONES), default="mobilenet_v2")
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="32 images, one repeat")
    args = parser.parse_args()
    count, repeats = (32, 1) if args.quick else (args.images, args.repeats)

    data = shared_data_dir()
    folder = data / "flickr8k" / "images_224" if data else None
    if folder is None or not folder.is_dir():
        sys.exit("needs the shared Flickr8k photos (../shared/data/flickr8k/images_224)")
    paths = sorted(folder.glob("*.jpg"))[:count]
    weights = data / "weights" / "mobilenet_v2_1.00_224_imagenet_from_tflite_no_top.weights.h5"
    weights = str(weights) if args.encoder == "mobilenet_v2" and weights.is_file() else None
    config = encoder_config(args.encoder, weights=weights)
    encoder = build_encoder(config)
    in_memory = np.random.default_rng(0).uniform(0, 255, size=(count, 224, 224, 3)).astype(np.float32)
    encode = lambda batch: encoder(batch, training=False)  # noqa: E731 - the encoder_fn the pipeline calls

    encode(in_memory[: args.batch_size])  # warm-up: traces the model for this batch shape

    def bare() -> float:
        started = time.perf_counter()
        for start in range(0, count, args.batch_size):
            keras.ops.convert_to_numpy(encode(in_memory[start : start + args.batch_size]))
        return time.perf_counter() - started

    def pipeline() -> float:
        with tempfile.TemporaryDirectory() as cache_dir:
            cache = FeatureCache(cache_dir, [str(path) for path in paths], config["feature_dim"], config)
            started = time.perf_counter()
            errors = extract_features(encode, paths, cache, batch_size=args.batch_size, progress=False)
            seconds = time.perf_counter() - started
            if errors or not cache.is_complete():
                sys.exit(f"extraction failed: {errors}")
        return seconds

    bare_seconds, pipeline_seconds = [], []
    for _ in range(repeats):  # interleaved, so both see the same background load
        bare_seconds.append(bare())
        pipeline_seconds.append(pipeline())
    bare_rate, pipeline_rate = count / min(bare_seconds), count / min(pipeline_seconds)
    result = {
        "benchmark": "feature_extraction_speed",
        "images": count,
        "batch_size": args.batch_size,
        "encoder": f"{args.encoder} ({'ImageNet weights file' if weights else 'random weights'}), 224x224",
        "bare_encoder_images_per_s": round(bare_rate, 2),
        "pipeline_images_per_s": round(pipeline_rate, 2),
        "ratio": round(pipeline_rate / bare_rate, 3),
        "target_ratio": 0.9,
        "runs_seconds": {"bare": [round(s, 2) for s in bare_seconds],
                         "pipeline": [round(s, 2) for s in pipeline_seconds]},
        "machine": machine_description(),
        "command": "python benchmarks/feature_extraction_speed.py"
                   + (" --quick" if args.quick else f" --encoder {args.encoder} --images {count}"),
    }
    RESULTS.mkdir(exist_ok=True)
    name = "feature_extraction_speed_quick.json" if args.quick else f"feature_extraction_speed_{args.encoder}.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
