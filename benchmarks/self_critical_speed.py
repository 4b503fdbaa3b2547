"""Self-critical training speed: (a) the in-process CIDEr-D against pycocoevalcap's on the same 5,000 captions
(target >= 50x), (b) one self-critical epoch against one cross-entropy epoch on the 6,000 Flickr8k training photos
(cached MobileNetV2 features, the photo recipe's decoder; target <= 3x).

(a) 5,000 Flickr8k training photos: each one's first caption is the candidate, its other four the references;
both scorers get the same tokens (`captioner.metrics.simple_tokenize`, joined by spaces for pycocoevalcap) and
fit their document frequencies on the same references. Timed: pycocoevalcap's ``Cider().compute_score`` (it
refits the document frequencies on every call), ``CiderD.score_tokens`` (the reward's per-batch call, document
frequencies fitted beforehand), ``CiderD.score`` (raw text, tokenising), and the fit; fastest of several repeats.
(b) The cross-entropy model is the photo recipe (`captioner.config.PHOTO_DECODER`, first-step injection) trained
for two epochs with ``fit``; self-critical fine-tuning then runs two epochs from it (5 samples per photo, greedy
baseline, 32 photos per update: 160 sequences per step, as a cross-entropy batch of 32 photos with 5 captions).
Each side's second epoch is timed (the first one traces the compiled functions), validation included (the
validation loss; the validation photos' greedy captions and their CIDEr-D).

The CPU is shared with other jobs; the load average at the start is recorded, and the two sides of (b) run one
after the other in the same process.

Example:
    KERAS_BACKEND=jax .venv/bin/python benchmarks/self_critical_speed.py
    .venv/bin/python benchmarks/self_critical_speed.py --photos 600   # a quick check of the script
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
from lm_reporting import machine_description, write_report  # noqa: E402

from captioner.cider_d import CiderD  # noqa: E402
from captioner.data import read_coco  # noqa: E402
from captioner.data.pipeline import caption_batches  # noqa: E402
from captioner.encoder import FeatureCache  # noqa: E402
from captioner.evaluation import generate_captions  # noqa: E402
from captioner.metrics import simple_tokenize  # noqa: E402
from captioner.photo_demo import photo_config  # noqa: E402
from captioner.self_critical import SelfCriticalConfig, finetune_self_critical  # noqa: E402
from captioner.training import (  # noqa: E402
    adapt_feature_statistics,
    build_captioner,
    caption_examples,
    compile_captioner,
    training_inputs,
)
from textmodels.data.paths import shared_data_dir  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
FEATURES = Path("/work/flickr_runs/full/mobilenet_v2_features")


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of every epoch, validation included."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self.logs: list[dict] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)
        self.logs.append({key: round(float(value), 4) for key, value in (logs or {}).items()})


def fastest(function, repeats: int):
    """``(seconds of the fastest call, its result)``."""
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def reward_speed(records, count: int) -> dict:
    from pycocoevalcap.cider.cider import Cider

    photos = [record for record in records if record.split == "train"][:count]
    references = {record.image_id: list(record.captions[1:]) for record in photos}
    candidates = {record.image_id: record.captions[0] for record in photos}
    gts = {key: [" ".join(simple_tokenize(text)) for text in texts] for key, texts in references.items()}
    res = {key: [" ".join(simple_tokenize(text))] for key, text in candidates.items()}
    tokens = [text[0].split() for text in res.values()]
    keys = list(res)
    pycoco_seconds, (_, theirs) = fastest(lambda: Cider().compute_score(gts, res), 3)
    fit_seconds, cider = fastest(lambda: CiderD(references), 3)
    token_seconds, ours = fastest(lambda: cider.score_tokens(tokens, keys), 7)
    text_seconds, from_text = fastest(lambda: cider.score(list(candidates.values()), keys), 7)
    return {
        "captions": len(keys),
        "max_abs_difference": float(max(np.abs(ours - theirs).max(), np.abs(from_text - theirs).max())),
        "pycocoevalcap_seconds": round(pycoco_seconds, 4),
        "cider_d_fit_seconds": round(fit_seconds, 4),
        "cider_d_score_tokens_seconds": round(token_seconds, 4),
        "cider_d_score_text_seconds": round(text_seconds, 4),
        "speedup_score_tokens": round(pycoco_seconds / token_seconds, 1),
        "speedup_score_text": round(pycoco_seconds / text_seconds, 1),
        "speedup_fit_and_score_tokens": round(pycoco_seconds / (fit_seconds + token_seconds), 1),
    }


def epoch_speed(records, cache, weights: str, photos: int | None) -> dict:
    train = [record for record in records if record.split == "train"][:photos]
    val = [record for record in records if record.split == "val"][: photos // 6 if photos else None]
    # Cached features: the encoder is not trained (as `train_captioner` builds it for a feature cache).
    config = photo_config("mobilenet_v2", weights, 0, inject="first_step", train_encoder=False)
    keras.utils.set_random_seed(0)
    model = build_captioner(train, config)
    compile_captioner(model, config)
    kept, features, _ = training_inputs(train, model, cache)
    adapt_feature_statistics(model, features, None)
    train_data = caption_batches(features, caption_examples(kept, model), config.batch_size, shuffle=True, seed=0)
    val_kept, val_features, _ = training_inputs(val, model, cache)
    val_data = caption_batches(val_features, caption_examples(val_kept, model), config.batch_size)
    cross_entropy = EpochTimer()
    model.fit(train_data, validation_data=val_data, epochs=2, shuffle=False, callbacks=[cross_entropy], verbose=0)
    # The starting point of fine-tuning, scored as its epochs are (greedy captions of the validation photos).
    greedy = generate_captions(model, val_kept, beam_size=1, features=cache)
    val_cider_before = CiderD({record.image_id: list(record.captions) for record in val_kept}).corpus_score(greedy)
    self_critical = EpochTimer()
    finetune_self_critical(model, train + val, SelfCriticalConfig(epochs=2, patience=None), features=cache,
                           progress=False, callbacks=[self_critical])
    return {
        "train_photos": len(kept),
        "val_photos": len(val_kept),
        "vocabulary": len(model.text_encoder.vocabulary),
        "cross_entropy_epoch_seconds": [round(value, 1) for value in cross_entropy.seconds],
        "self_critical_epoch_seconds": [round(value, 1) for value in self_critical.seconds],
        "ratio_second_epoch": round(self_critical.seconds[-1] / cross_entropy.seconds[-1], 2),
        "val_cider_of_the_cross_entropy_model": round(val_cider_before, 4),
        "cross_entropy_logs": cross_entropy.logs,
        "self_critical_logs": self_critical.logs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=None, help="train on this many photos only (quick check)")
    parser.add_argument("--captions", type=int, default=5000, help="candidates of the reward comparison")
    parser.add_argument("--features", type=Path, default=FEATURES, help="the MobileNetV2 feature cache folder")
    parser.add_argument("--skip-epochs", action="store_true", help="only the reward comparison")
    args = parser.parse_args()

    data = shared_data_dir()
    folder = data / "flickr8k" if data else None
    if folder is None or not (folder / "captions_flickr8k.json").is_file():
        sys.exit("needs the shared data's flickr8k folder (captions_flickr8k.json and images_224/)")
    records = read_coco(folder / "captions_flickr8k.json", folder / "images_224")
    report = {
        "benchmark": "self_critical_speed",
        "backend": keras.backend.backend(),
        "machine": machine_description(),
        "note": "the 2 cores were shared with other jobs (training runs, other benchmarks): timings are noisy; "
                "each ratio comes from one process, its two sides run one after the other",
        "command": "python benchmarks/self_critical_speed.py " + " ".join(sys.argv[1:]),
    }
    report["reward"] = reward_speed(records, args.captions)
    print(json.dumps(report["reward"], indent=2), flush=True)
    if not args.skip_epochs:
        meta = json.loads((args.features / "meta.json").read_text())
        cache = FeatureCache(args.features, meta["image_ids"], meta["dim"], meta["encoder_config"])
        report["epoch"] = epoch_speed(records, cache, meta["encoder_config"]["weights"], args.photos)
        print(json.dumps(report["epoch"], indent=2), flush=True)
    name = "self_critical_speed_quick.json" if args.photos or args.skip_epochs else "self_critical_speed.json"
    write_report(report, RESULTS / name)
    print_table(report)


def print_table(report: dict) -> None:
    reward = report["reward"]
    print(f"\n| measure ({report['backend']}) | seconds | ratio |\n|---|---|---|")
    print(f"| pycocoevalcap Cider, {reward['captions']} captions | {reward['pycocoevalcap_seconds']:.3f} | 1 |")
    print(f"| CiderD.score_tokens (df fitted) | {reward['cider_d_score_tokens_seconds']:.4f} | "
          f"{reward['speedup_score_tokens']}x faster |")
    print(f"| CiderD.score (raw text) | {reward['cider_d_score_text_seconds']:.4f} | "
          f"{reward['speedup_score_text']}x faster |")
    print(f"| CiderD fit + score_tokens | {reward['cider_d_fit_seconds'] + reward['cider_d_score_tokens_seconds']:.3f}"
          f" | {reward['speedup_fit_and_score_tokens']}x faster |")
    if "epoch" in report:
        epoch = report["epoch"]
        print(f"| cross-entropy epoch ({epoch['train_photos']} photos) | {epoch['cross_entropy_epoch_seconds'][-1]} "
              "| 1 |")
        print(f"| self-critical epoch | {epoch['self_critical_epoch_seconds'][-1]} | "
              f"{epoch['ratio_second_epoch']}x slower |")


if __name__ == "__main__":
    main()
