"""Caption decoding speed: batched beam search with one compiled step (state carried) against a loop that calls
``model.predict`` on the whole prefix for every token, one image at a time. Both run the same beam search
(width 3, `textmodels.decoding.beam_search`), so they must produce the same captions; the script checks that.

The model is a captioner with a Flickr8k-sized decoder (LSTM 256, embedding 128, first-step injection) whose
vocabulary comes from the Flickr8k captions when the shared data is present (else a synthetic one). Its
weights are random unless ``--model`` names a trained `.keras` file; image features are random vectors (the
encoder is not part of what is timed). Image encoding is excluded from both timings.

Example:
    .venv/bin/python benchmarks/caption_decoding_speed.py --quick
    .venv/bin/python benchmarks/caption_decoding_speed.py --images 20
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from captioner.model import CaptionModel, fit_caption_vocabulary  # noqa: E402
from textmodels.data.paths import shared_data_dir  # noqa: E402
from textmodels.decoding import beam_search  # noqa: E402
from textmodels.text import Vocabulary  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
BEAM = 3
BANNED = (Vocabulary.pad_id, Vocabulary.unk_id, Vocabulary.bos_id)


def _captions() -> list[str]:
    data = shared_data_dir()
    path = data / "flickr8k_1k" / "captions_flickr8k_1k.json" if data else None
    if path and path.is_file():
        return [annotation["caption"] for annotation in json.loads(path.read_text())["annotations"]]
    rng = np.random.default_rng(0)
    words = [f"w{index}" for index in range(800)]
    return [" ".join(rng.choice(words, size=10)) for _ in range(4000)]


def build_model(path: str | None) -> CaptionModel:
    """The trained model at ``path``, or a random-weight captioner of Flickr8k size."""
    if path:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    text_encoder = fit_caption_vocabulary(_captions(), min_count=5, max_length=20)
    return CaptionModel.create(text_encoder, {"kind": "small", "image_size": 64, "conv_filters": [16, 32, 64],
                                              "feature_dim": 4096}, embedding_dim=128, units=256, cell="lstm")


def naive_captions(model: CaptionModel, features: np.ndarray, max_length: int) -> list[list[int]]:
    """Beam search whose step re-runs ``model.predict`` over the whole prefix, image by image."""

    def step_fn(tokens, state):
        prefix = np.concatenate([state["prefix"], np.asarray(tokens, np.int32)[:, None]], axis=1)
        logits = model.predict({"features": state["features"], "tokens": prefix}, verbose=0)[:, -1]
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        return log_probs, {"prefix": prefix, "features": state["features"]}

    captions = []
    for row in range(len(features)):
        state = {"prefix": np.zeros((1, 0), np.int32), "features": features[row : row + 1]}
        best = beam_search(step_fn, state, 1, bos_id=Vocabulary.bos_id, eos_id=Vocabulary.eos_id,
                           max_length=max_length, beam_size=BEAM, banned_ids=BANNED, eos_at_max_length=True)[0][0]
        captions.append(best.tokens)
    return captions


def batched_captions(model: CaptionModel, features: np.ndarray, max_length: int) -> list[list[int]]:
    """`CaptionModel.generate`: all images at once, one compiled step per token."""
    # generate counts words; max_length here counts decoding steps (the words, then <eos>).
    return [hyps[0].tokens for hyps in model.generate(features, beam_size=BEAM, max_length=max_length - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--model", help="a trained captioner .keras file (default: random weights)")
    parser.add_argument("--quick", action="store_true", help="10 images")
    args = parser.parse_args()
    images = 10 if args.quick else args.images

    model = build_model(args.model)
    max_length = model.max_caption_length + 1
    features = np.abs(np.random.default_rng(1).normal(size=(images, model.feature_dim))).astype(np.float32)
    # Warm-up: both paths trace their graphs before timing.
    batched_captions(model, features[:2], max_length)
    naive_captions(model, features[:1], 2)

    started = time.perf_counter()
    fast = batched_captions(model, features, max_length)
    batched_seconds = time.perf_counter() - started
    started = time.perf_counter()
    slow = naive_captions(model, features, max_length)
    naive_seconds = time.perf_counter() - started

    same = sum(a == b for a, b in zip(fast, slow))
    tokens = sum(len(caption) + 1 for caption in fast)
    result = {
        "benchmark": "caption_decoding_speed",
        "images": images,
        "beam_size": BEAM,
        "vocabulary": len(model.text_encoder.vocabulary),
        "decoder": f"{model.decoder.cell} {model.decoder.units}, inject {model.decoder.inject}",
        "weights": args.model or "random",
        "generated_tokens": tokens,
        "batched_seconds": round(batched_seconds, 3),
        "naive_predict_loop_seconds": round(naive_seconds, 3),
        "speedup": round(naive_seconds / batched_seconds, 1),
        "target_speedup": 20,
        "identical_captions": f"{same}/{images}",
        "command": "python benchmarks/caption_decoding_speed.py"
                   + (" --quick" if args.quick else f" --images {images}"),
    }
    RESULTS.mkdir(exist_ok=True)
    name = "caption_decoding_speed_quick.json" if args.quick else "caption_decoding_speed.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
