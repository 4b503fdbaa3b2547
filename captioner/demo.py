"""The synthetic-shapes demo behind ``captioner demo``, with no download: it writes the shapes dataset, trains
the captioner (a small VGG-style encoder learned from scratch, a GRU decoder with the image injected at the first
step) and the same decoder without the image (the image-blind baseline), then scores both on the held-out test
images with BLEU-1..4 and CIDEr-D and keeps a few example captions. (The photo demo, ``captioner demo --data
flickr8k``, is `captioner.photo_demo`.)

Imports TensorFlow only when the demo runs, so the command's ``--help`` reads the defaults of `run_demo` at
once.

Example:
    >>> import tempfile
    >>> results = run_demo(tempfile.mkdtemp(), num_images=20, image_size=16, epochs=1, examples=1, verbose=0)
    >>> sorted(results["models"]), results["test_images"]
    (['captioner', 'image-blind baseline'], 2)
    >>> sorted(results["models"]["captioner"]["metrics"]) == sorted(DEMO_METRICS)
    True
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

DEMO_METRICS = ("bleu1", "bleu2", "bleu3", "bleu4", "cider")


def demo_config(image_size: int = 64, epochs: int = 12, seed: int = 0):
    """The captioner settings of the demo.

    Example:
        >>> config = demo_config(epochs=3)
        >>> config.cell, config.inject, config.epochs
        ('gru', 'first_step', 3)
    """
    from captioner.config import CaptionerConfig

    return CaptionerConfig(
        encoder="small", image_size=image_size, conv_filters=(16, 32, 64), feature_dim=4096,
        embedding_dim=64, units=256, cell="gru", inject="first_step", min_count=1, max_length=14,
        batch_size=32, epochs=epochs, learning_rate=1e-3, patience=4, seed=seed,
    )


def run_demo(work_dir: str | Path, num_images: int = 2000, image_size: int = 64, epochs: int = 12,
             examples: int = 5, seed: int = 0, word_order: str = "reading", verbose: int = 2) -> dict:
    """Builds the data in ``work_dir``, trains both models, evaluates them on the test split; returns the
    metrics, timings, saved model paths and ``examples`` example captions of each (see the module example)."""
    from captioner.api import Captioner
    from captioner.data import make_synthetic, read_coco
    from captioner.evaluation import evaluate_captioner
    from captioner.training import train_captioner

    work_dir = Path(work_dir)
    started = time.perf_counter()
    data_dir = work_dir / "synthetic"
    records = read_coco(make_synthetic(data_dir, num_images=num_images, image_size=image_size, seed=seed,
                                       word_order=word_order), data_dir)
    config = demo_config(image_size, epochs, seed)
    test_records = [record for record in records if record.split == "test"]
    results = {"num_images": num_images, "test_images": len(test_records), "image_size": image_size,
               "epochs": epochs, "word_order": word_order, "models": {}}
    for name, model_config in (("captioner", config), ("image-blind baseline", replace(config, image_blind=True))):
        model_started = time.perf_counter()
        trained = train_captioner(records, model_config, verbose=verbose).model
        path = Captioner(trained).save(work_dir / ("captioner.keras" if name == "captioner" else "blind.keras"))
        report = evaluate_captioner(trained, records, split="test")  # the decoding stored in the model
        results["models"][name] = {
            "metrics": {key: report.metrics[key] for key in DEMO_METRICS},
            "seconds": round(time.perf_counter() - model_started, 1),
            "path": str(path),
            "examples": [
                {"image": record.image_path.name, "caption": report.captions[record.image_id],
                 "reference": record.captions[0]}
                for record in test_records[:examples]
            ],
        }
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results
