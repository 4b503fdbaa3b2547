"""Feature extraction speed: images/s of the full pipeline (JPEG files -> tf.data parallel decode and resize ->
VGG16 fc2 -> on-disk feature cache) against the bare VGG16 model on in-memory tensors. Target: >= 0.9x.

VGG16 has random weights here (no ImageNet download offline; speed does not depend on the values). The
images are the Flickr8k 1k-subset JPEGs from the shared data folder (256 px, decoded and resized to 224).
Each measurement is repeated and the fastest run kept, because the CPU is shared with other jobs.

Example:
    .venv/bin/python benchmarks/feature_extraction_speed.py --quick
    .venv/bin/python benchmarks/feature_extraction_speed.py --images 64
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

import numpy as np  # noqa: E402

from captioner.encoder import FeatureCache, build_vgg16_encoder, encoder_config, extract_features  # noqa: E402
from textmodels.data.paths import shared_data_dir  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="32 images, one repeat")
    args = parser.parse_args()
    count, repeats = (32, 1) if args.quick else (args.images, args.repeats)

    data = shared_data_dir()
    folder = data / "flickr8k_1k" / "images_256px" if data else None
    if folder is None or not folder.is_dir():
        sys.exit("needs the shared Flickr8k images (../shared/data/flickr8k_1k/images_256px)")
    paths = sorted(folder.glob("*.jpg"))[:count]
    encoder = build_vgg16_encoder(weights=None)
    config = encoder_config("vgg16", weights=None)
    in_memory = np.random.default_rng(0).uniform(0, 255, size=(count, 224, 224, 3)).astype(np.float32)
    encode = lambda batch: encoder(batch, training=False)  # noqa: E731 - the encoder_fn the pipeline calls

    encode(in_memory[: args.batch_size])  # warm-up: traces the model for this batch shape

    def bare() -> float:
        started = time.perf_counter()
        for start in range(0, count, args.batch_size):
            np.asarray(encode(in_memory[start : start + args.batch_size]))
        return time.perf_counter() - started

    def pipeline() -> float:
        with tempfile.TemporaryDirectory() as cache_dir:
            cache = FeatureCache(cache_dir, [str(path) for path in paths], 4096, config)
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
        "encoder": "VGG16 up to fc2, random weights, 224x224",
        "bare_vgg16_images_per_s": round(bare_rate, 2),
        "pipeline_images_per_s": round(pipeline_rate, 2),
        "ratio": round(pipeline_rate / bare_rate, 3),
        "target_ratio": 0.9,
        "runs_seconds": {"bare": [round(s, 2) for s in bare_seconds],
                         "pipeline": [round(s, 2) for s in pipeline_seconds]},
        "command": "python benchmarks/feature_extraction_speed.py"
                   + (" --quick" if args.quick else f" --images {count}"),
    }
    RESULTS.mkdir(exist_ok=True)
    name = "feature_extraction_speed_quick.json" if args.quick else "feature_extraction_speed.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
