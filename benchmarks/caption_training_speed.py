"""Decoder training speed on cached features: target tokens/s of the captioner (first-step injection, the photo
recipe's LSTM) against a bare Keras ``Embedding -> LSTM -> Dense`` model of the same size, on the same batches.
Target: >= 0.9x.

The batches are real Flickr8k training captions (five per photo, each batch cut to its longest caption) with
1280-d features (MobileNetV2's size; random values: speed does not depend on them). Both models run
``train_on_batch`` over the same batches, interleaved and repeated, the fastest repeat kept (the CPU is shared
with other jobs); timing steps rather than ``fit`` calls leaves out fit's start-up and end-of-epoch stalls.

Example:
    .venv/bin/python benchmarks/caption_training_speed.py --quick
    .venv/bin/python benchmarks/caption_training_speed.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from lm_reporting import machine_description  # noqa: E402

from captioner.data import read_coco  # noqa: E402
from captioner.data.pipeline import caption_batches  # noqa: E402
from captioner.photo_demo import photo_config  # noqa: E402
from captioner.training import build_captioner, caption_examples, compile_captioner  # noqa: E402
from textmodels.data.paths import shared_data_dir  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def bare_model(vocabulary_size: int, embedding_dim: int, units: int, dropout: float) -> keras.Model:
    """The same recipe without the image: dropout on the embeddings and on the LSTM outputs, as the decoder."""
    tokens = keras.Input((None,), dtype="int32")
    x = keras.layers.Dropout(dropout)(keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True)(tokens))
    x = keras.layers.Dropout(dropout)(keras.layers.LSTM(units, return_sequences=True)(x))
    model = keras.Model(tokens, keras.layers.Dense(vocabulary_size)(x))
    model.compile(optimizer=keras.optimizers.Adam(1e-3, global_clipnorm=5.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0))
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="batches per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="8 steps, one repeat")
    args = parser.parse_args()
    steps, repeats = (8, 1) if args.quick else (args.steps, args.repeats)

    data = shared_data_dir()
    captions_file = data / "flickr8k" / "captions_flickr8k.json" if data else None
    if captions_file is None or not captions_file.is_file():
        sys.exit("needs ../shared/data/flickr8k/captions_flickr8k.json")
    records = [r for r in read_coco(captions_file, captions_file.parent / "images_224", check_files=False)
               if r.split == "train"]
    config = photo_config("mobilenet_v2", None)
    keras.utils.set_random_seed(0)
    captioner = build_captioner(records, config)
    compile_captioner(captioner, config)
    vocabulary_size = len(captioner.text_encoder.vocabulary)
    bare = bare_model(vocabulary_size, config.embedding_dim, config.units, config.dropout)
    chosen = records[: steps * config.batch_size]
    features = np.random.default_rng(0).normal(size=(len(chosen), captioner.feature_dim)).astype(np.float32)
    batches = [(keras.ops.convert_to_numpy(x["features"]), keras.ops.convert_to_numpy(x["tokens"]),
                keras.ops.convert_to_numpy(y))
               for x, y in caption_batches(features, caption_examples(chosen, captioner), config.batch_size)]
    tokens = sum(int((targets > 0).sum()) for _, _, targets in batches)

    def time_captioner() -> float:
        started = time.perf_counter()
        for feature_batch, token_batch, targets in batches:
            captioner.train_on_batch({"features": feature_batch, "tokens": token_batch}, targets)
        return time.perf_counter() - started

    def time_bare() -> float:
        started = time.perf_counter()
        for _, token_batch, targets in batches:
            width = token_batch.shape[-1]
            bare.train_on_batch(token_batch.reshape(-1, width), targets.reshape(-1, width))
        return time.perf_counter() - started

    # Warm-up: trace every batch shape once for both models.
    time_captioner()
    time_bare()
    captioner_seconds, bare_seconds = [], []
    for _ in range(repeats):
        captioner_seconds.append(time_captioner())
        bare_seconds.append(time_bare())
    captioner_rate, bare_rate = tokens / min(captioner_seconds), tokens / min(bare_seconds)
    result = {
        "benchmark": "caption_training_speed",
        "batches": len(batches),
        "target_tokens_per_repeat": tokens,
        "model": f"first_step LSTM {config.units}, embedding {config.embedding_dim}, vocabulary {vocabulary_size}, "
                 f"dropout {config.dropout}, {captioner.feature_dim}-d features; bare: Embedding -> LSTM -> Dense "
                 "with the same dropout",
        "captioner_tokens_per_s": round(captioner_rate, 1),
        "bare_keras_tokens_per_s": round(bare_rate, 1),
        "ratio": round(captioner_rate / bare_rate, 3),
        "target_ratio": 0.9,
        "runs_seconds": {"captioner": [round(s, 2) for s in captioner_seconds],
                         "bare": [round(s, 2) for s in bare_seconds]},
        "machine": machine_description(),
        "command": "python benchmarks/caption_training_speed.py" + (" --quick" if args.quick else ""),
    }
    RESULTS.mkdir(exist_ok=True)
    name = "caption_training_speed_quick.json" if args.quick else "caption_training_speed.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
