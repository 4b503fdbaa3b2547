"""The trainings of the distribution tests (tests/textmodels/training/test_distribution.py), as one process runs them.

``python tests/distributed_jobs.py DATA OUT NAME...`` trains the tiny classifier and the tiny captioner of
`write_data` once for every ``--distribute`` NAME, through the commands, into ``OUT/NAME/``, extracts the
photos' features into ``OUT/NAME/cache``, and records there
how many replicas and workers each worker saw (``workerI.json``). A worker of a
cluster is one such process with its own ``TF_CONFIG``; ``LOGICAL_CPUS=2`` first splits the CPU into two
logical devices (for ``mirrored``). The test compares the losses in the chief's run folders with a single
process's (`trained_losses`).

Example:
    >>> classifier_arguments("data", "out/none", "none")[:3]
    ['train-classifier', 'data/train.tsv', '--val-fraction']
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

WORDS = {"pos": ["good", "great", "fun"], "neg": ["bad", "dull", "poor"]}
FILLER = ["the", "film", "plot", "was", "a", "cast"]
EPOCHS = 2
# Global batches: both divide evenly over two replicas, so every replica scores the same number of examples.
CLASSIFIER_BATCH, CAPTIONER_BATCH = 8, 8


def write_data(folder: Path) -> Path:
    """48 labelled sentences (``train.tsv``) and 20 synthetic captioned images (``captions.json``) in ``folder``."""
    import numpy as np

    from captioner.data import make_synthetic

    rng = np.random.default_rng(0)
    lines = ["text\tlabel"]
    for row in range(48):
        label = ("pos", "neg")[row % 2]
        words = [*rng.choice(FILLER, 3), rng.choice(WORDS[label])]
        lines.append(" ".join(rng.permutation(words)) + f"\t{label}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.tsv").write_text("\n".join(lines) + "\n")
    make_synthetic(folder, num_images=20, image_size=16)  # splits 16 / 2 / 2
    return folder


def classifier_arguments(data, out, distribute: str) -> list[str]:
    """``textmodels train-classifier`` on ``data`` into ``out`` (two epochs, no validation split). A TextCNN
    without dropout: dropout masks are drawn per replica, so a model with dropout cannot match one device."""
    return ["train-classifier", f"{data}/train.tsv", "--val-fraction", "0", "--out", f"{out}/classifier.keras",
            "--epochs", str(EPOCHS), "--batch-size", str(CLASSIFIER_BATCH), "--model", "textcnn", "--filters", "8",
            "--embedding-dim", "8", "--dropout", "0", "--learning-rate", "0.01", "--distribute", distribute]


def captioner_arguments(data, out, distribute: str) -> list[str]:
    """``captioner train`` from pixels on ``data`` into ``out`` (two epochs; 16 training images, 2 validation)."""
    return ["train", f"{data}/captions.json", "--images", str(data), "--out",
            f"{out}/captioner.keras", "--image-size", "16", "--conv-filters", "4", "--feature-dim", "8", "--units",
            "8", "--embedding-dim", "4", "--epochs", str(EPOCHS), "--batch-size", str(CAPTIONER_BATCH),
            "--min-count", "1", "--quiet", "--distribute", distribute]


def extraction_arguments(data, out, distribute: str) -> list[str]:
    """``captioner extract-features`` of every photo in ``data`` into ``out/cache`` (the small encoder)."""
    return ["extract-features", f"{data}/captions.json", "--images", str(data), "--features", f"{out}/cache",
            "--encoder", "small", "--weights", "none", "--image-size", "16", "--conv-filters", "4",
            "--feature-dim", "8", "--batch-size", "4", "--quiet", "--distribute", distribute]


def trained_losses(out) -> dict[str, list[float]]:
    """The training loss of every epoch, per model, from the run folders in ``out``."""
    return {name: json.loads((Path(out) / f"{name}.run" / "state.json").read_text())["history"]["loss"]
            for name in ("classifier", "captioner")}


def main(data: str, out: str, names: list[str]) -> int:
    if os.environ.get("LOGICAL_CPUS"):
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * int(os.environ["LOGICAL_CPUS"])
        )
    from captioner.cli import main as captioner
    from textmodels.cli import main as textmodels
    from textmodels.training.distribution import select_distribution

    for name in names:
        folder = Path(out) / name
        if textmodels(classifier_arguments(data, folder, name)) != 0:
            return 1
        if captioner(captioner_arguments(data, folder, name)) != 0:
            return 1
        if captioner(extraction_arguments(data, folder, name)) != 0:
            return 1
        distribution = select_distribution(name)
        seen = {"replicas": distribution.num_replicas, "workers": distribution.num_workers}
        (folder / f"worker{distribution.worker_index}.json").write_text(json.dumps(seen))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
