"""Add a trained captioner to the preset registry, or rebuild the shipped preset from the data.

::

    # a model you trained (e.g. the best of benchmarks/flickr8k_captioning.py) becomes the preset
    python -m captioner.presets.build MODEL.keras [--name flickr8k_mobilenet_v2] [--tune]

    # the whole path from ../shared/data: features, training with the recipe, decoding chosen on the validation
    # split, then the same steps; refuses to replace the registered file unless the metrics reproduce
    python -m captioner.presets.build --rebuild

Steps, in order: the model is loaded (a file that is not a captioner is refused); with ``--tune`` the beam width
and length penalty are chosen on the validation split and stored in it (`captioner.tuning.tune_decoding`); it is
written for inference (no optimizer state) to a staging file, which must be at most `MAX_PRESET_BYTES` (a file
committed to the repository); the staging file, loaded as a user would load it, captions the Flickr8k test split
and is scored (BLEU-1..4, METEOR, ROUGE-L, CIDEr-D, with the model's stored decoding); its SHA-256 digest is
computed; then the file is copied into the registry folder and its entry (``NAME.json``: digest, size,
description, metrics, decoding, recipe, data) written beside it, each atomically, the entry last, so that an
interrupted build leaves a file whose digest does not match, which is refused, never a wrong caption.
When the name is already registered, the new metrics are printed beside the registered ones; ``--rebuild`` only
installs when they agree within `REPRODUCE_TOLERANCE`.

Float32 storage is kept: the Flickr8k MobileNetV2 captioner (2,550 words, embeddings 512, GRU 256, 5.86 M
parameters) is 23.9 MB, under the 30 MB limit, so no float16 copy (and no check that its captions stay the same)
is needed.

Example:
    >>> parser = argument_parser()
    >>> args = parser.parse_args(["best.keras", "--tune"])
    >>> args.model, args.name, args.tune, args.rebuild
    ('best.keras', 'flickr8k_mobilenet_v2', True, False)
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
from pathlib import Path

from captioner.errors import PresetError
from captioner.presets.registry import DEFAULT_PRESET, file_digest, known_presets, presets_folder
from textmodels.atomic_files import copy_atomically, write_text_atomically
from textmodels.data.paths import shared_data_dir

# Largest preset file: it is committed to the repository and shipped in the package.
MAX_PRESET_BYTES = 30_000_000
# A rebuilt preset reproduces the registered one when its test metrics differ by at most this much (training is
# not bit-for-bit reproducible across machines and thread counts).
REPRODUCE_TOLERANCE = {"bleu4": 0.01, "cider": 0.03}
SCORED_METRICS = ("bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rouge_l", "cider")
WEIGHTS_FILE = "weights/mobilenet_v2_1.00_224_imagenet_from_tflite_no_top.weights.h5"
LICENCE = ("Flickr8k photos and captions: research and non-commercial use only (Hodosh, Young & Hockenmaier 2013, "
           "JAIR 47); MobileNetV2 ImageNet weights: Apache 2.0 (Keras applications), ImageNet terms for research")
DESCRIPTIONS = {DEFAULT_PRESET: "MobileNetV2 features + GRU decoder trained on Flickr8k (research use only)"}


def default_data_dir() -> Path | None:
    """The Flickr8k folder of the shared data (``../shared/data/flickr8k``), or None when absent.

    Example:
        >>> default_data_dir() is None or default_data_dir().name == "flickr8k"
        True
    """
    shared = shared_data_dir()
    return None if shared is None or not (shared / "flickr8k").is_dir() else shared / "flickr8k"


def split_records(data_dir: str | Path, split: str = "test") -> list:
    """The caption records of ``split`` in a Flickr8k-style folder (`captioner.photo_demo.find_caption_file`).

    Example:
        >>> import tempfile
        >>> from captioner.data import make_synthetic
        >>> folder = tempfile.mkdtemp()
        >>> _ = make_synthetic(folder, num_images=20, image_size=16)
        >>> {record.split for record in split_records(folder)}
        {'test'}
    """
    from captioner.data.caption_files import read_caption_data
    from captioner.photo_demo import find_caption_file

    caption_file, images = find_caption_file(data_dir)
    records = [record for record in read_caption_data(caption_file, images) if record.split == split]
    if not records:
        raise PresetError(f"{caption_file}: no photos in the {split!r} split to score the preset on")
    return records


def score_preset(path: str | Path, data_dir: str | Path, use_java: bool = True) -> dict:
    """Test-split metrics of the captioner file ``path`` loaded as a user loads it (its stored decoding), plus
    the number of photos captioned.

    Example:
        >>> import tempfile
        >>> from captioner.api import Captioner
        >>> from captioner.data import make_synthetic
        >>> from captioner.model import CaptionModel, fit_caption_vocabulary
        >>> folder = tempfile.mkdtemp()
        >>> _ = make_synthetic(folder, num_images=20, image_size=16)
        >>> model = CaptionModel.create(fit_caption_vocabulary(["a red circle"], min_count=1),
        ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
        >>> path = Captioner(model).save(folder + "/model.keras")
        >>> metrics = score_preset(path, folder, use_java=False)
        >>> sorted(metrics), metrics["test_photos"]
        (['bleu1', 'bleu2', 'bleu3', 'bleu4', 'cider', 'rouge_l', 'test_photos'], 2)
    """
    from captioner.api import Captioner
    from captioner.evaluation import evaluate_captioner

    model = Captioner.load(path).model
    report = evaluate_captioner(model, split_records(data_dir), split="test", use_java=use_java)
    metrics = {key: round(report.metrics[key], 4) for key in SCORED_METRICS if report.metrics.get(key) is not None}
    metrics["test_photos"] = report.num_images
    return metrics


def tune_on_validation(model, data_dir: str | Path) -> dict:
    """Choose the beam width and length penalty on the validation split of ``data_dir`` and store them in
    ``model`` (photos encoded once, then every combination decoded); returns the choice.

    Example:
        >>> import tempfile
        >>> from captioner.data import make_synthetic
        >>> from captioner.model import CaptionModel, fit_caption_vocabulary
        >>> folder = tempfile.mkdtemp()
        >>> _ = make_synthetic(folder, num_images=20, image_size=16)
        >>> model = CaptionModel.create(fit_caption_vocabulary(["a red circle"], min_count=1),
        ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
        >>> choice = tune_on_validation(model, folder)
        >>> model.decoding.beam_size == choice["beam_size"]
        True
    """
    from captioner.data.pipeline import image_batches
    from captioner.tuning import tune_decoding

    records = split_records(data_dir, split="val")
    features = {}
    for indices, images in image_batches([record.image_path for record in records], model.image_size,
                                         32).as_numpy_iterator():
        for index, vector in zip(indices, model.encode_images(images)):
            features[records[index].image_id] = vector
    readable = [record for record in records if record.image_id in features]
    return tune_decoding(model, readable, features=features).best


def compare_metrics(new: dict, registered: dict) -> list[str]:
    """The metrics of `REPRODUCE_TOLERANCE` on which ``new`` and ``registered`` disagree by more than allowed.

    Example:
        >>> compare_metrics({"bleu4": 0.20, "cider": 0.50}, {"bleu4": 0.18, "cider": 0.51})
        ['bleu4 0.2000 vs 0.1800 registered (tolerance 0.01)']
    """
    return [f"{key} {new[key]:.4f} vs {registered[key]:.4f} registered (tolerance {tolerance:g})"
            for key, tolerance in REPRODUCE_TOLERANCE.items()
            if key in new and key in registered and abs(new[key] - registered[key]) > tolerance]


def build_preset(
    model_path: str | Path,
    name: str = DEFAULT_PRESET,
    *,
    out_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    description: str | None = None,
    tune: bool = False,
    require_reproduction: bool = False,
    recipe: dict | None = None,
    use_java: bool = True,
    log=print,
) -> dict:
    """Install the captioner ``model_path`` as preset ``name`` in ``out_dir`` (default: the registry folder) after
    scoring it on the test split of ``data_dir`` (None: not scored); returns the registry entry written.

    Example:
        >>> import tempfile
        >>> from captioner.api import Captioner
        >>> from captioner.model import CaptionModel, fit_caption_vocabulary
        >>> model = CaptionModel.create(fit_caption_vocabulary(["a cat"], min_count=1),
        ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
        >>> path = Captioner(model).save(tempfile.mkdtemp() + "/model.keras")
        >>> entry = build_preset(path, "tiny", out_dir=tempfile.mkdtemp(), description="a test", log=None)
        >>> entry["file"], len(entry["sha256"]), entry["metrics"]
        ('tiny.keras', 64, {})
    """
    from captioner.api import Captioner

    log = log or (lambda *args: None)
    out_dir = Path(out_dir) if out_dir is not None else presets_folder()
    registered = known_presets(out_dir).get(name)
    captioner = Captioner.load(model_path)
    if tune:
        if data_dir is None:
            raise PresetError("--tune needs the data (--data DIR) to choose the decoding on its validation split")
        log(f"decoding chosen on the validation split: {tune_on_validation(captioner.model, data_dir)}")
    with tempfile.TemporaryDirectory(prefix="preset-") as staging:
        candidate = captioner.save(Path(staging) / f"{name}.keras")
        size = candidate.stat().st_size
        if size > MAX_PRESET_BYTES:
            raise PresetError(f"{model_path}: the preset file would be {size / 1e6:.1f} MB, over the "
                              f"{MAX_PRESET_BYTES / 1e6:g} MB a committed preset may take; use a smaller model")
        metrics = {}
        if data_dir is not None:
            log(f"scoring {candidate.name} on the test split of {data_dir} ...")
            metrics = score_preset(candidate, data_dir, use_java=use_java)
            log("test: " + "  ".join(f"{key} {value}" for key, value in metrics.items()))
        if registered is not None and registered.metrics and metrics:
            disagreements = compare_metrics(metrics, registered.metrics)
            log("registered: " + "  ".join(f"{key} {value}" for key, value in registered.metrics.items()))
            if disagreements and require_reproduction:
                raise PresetError(f"the rebuilt preset {name!r} does not reproduce the registered metrics ("
                                  f"{'; '.join(disagreements)}); the registered file is kept")
            log("metrics reproduced" if not disagreements else f"metrics changed: {'; '.join(disagreements)}")
        model = captioner.model
        entry = {
            "name": name,
            "file": f"{name}.keras",
            "sha256": file_digest(candidate),
            "size_bytes": size,
            "description": description or (registered.description if registered else DESCRIPTIONS.get(name, "")),
            "metrics": metrics,
            "decoding": model.decoding.get_config(),
            "model": {"encoder": model.encoder_config.get("kind"), "vocabulary": len(model.text_encoder.vocabulary),
                      "embedding_dim": model.decoder.embedding_dim, "units": model.decoder.units,
                      "cell": model.decoder.cell, "layers": model.decoder.layers, "inject": model.decoder.inject,
                      "feature_normalization": model.decoder.feature_normalization,
                      "parameters": int(model.count_params())},
            "data": None if data_dir is None else {"folder": Path(data_dir).name, "scored_split": "test"},
            "licence": LICENCE,
            "recipe": recipe,
            "built": datetime.date.today().isoformat(),
        }
        # The file first, its entry last: a build cut in between leaves a digest mismatch, which is refused.
        copy_atomically(candidate, out_dir / entry["file"])
    write_text_atomically(out_dir / f"{name}.json", json.dumps(entry, indent=2) + "\n")
    log(f"preset {name!r}: {out_dir / entry['file']} ({size / 1e6:.1f} MB, sha256 {entry['sha256'][:16]}...)")
    return entry


def rebuild_preset(data_dir: str | Path, work_dir: str | Path, *, weights: str | None, name: str = DEFAULT_PRESET,
                   out_dir: str | Path | None = None, force: bool = False, seed: int = 0, verbose: int = 2) -> dict:
    """The full path from the data: `captioner.photo_demo.train_photo_captioner` (MobileNetV2 features cached in
    ``work_dir``, the decoder trained with `captioner.config.PHOTO_DECODER`, the decoding chosen on the validation
    split and stored), then `build_preset`, which installs only when the metrics reproduce (unless ``force``).

    The one command: ``python -m captioner.presets.build --rebuild`` (about an hour on two CPU cores).

    Example:
        >>> argument_parser().parse_args(["--rebuild"]).work_dir.as_posix()
        'preset_build'
    """
    from captioner.config import PHOTO_DECODER
    from captioner.photo_demo import train_photo_captioner

    report = train_photo_captioner(data_dir, work_dir, encoder="mobilenet_v2", weights=weights, seed=seed,
                                   verbose=verbose)
    recipe = {"command": "python -m captioner.presets.build --rebuild", "trainer":
              "captioner.photo_demo.train_photo_captioner", "encoder": "mobilenet_v2", "seed": seed,
              "decoder": PHOTO_DECODER, "epochs_run": report["epochs"], "decoding_chosen": report.get("decoding")}
    return build_preset(report["model"], name, out_dir=out_dir, data_dir=data_dir, require_reproduction=not force,
                        recipe=recipe)


def argument_parser() -> argparse.ArgumentParser:
    """The builder's command line.

    Example:
        >>> argument_parser().parse_args(["best.keras"]).name
        'flickr8k_mobilenet_v2'
    """
    parser = argparse.ArgumentParser(
        prog="python -m captioner.presets.build",
        description="Install a trained captioner as a preset (digest, registry entry, test metrics), or rebuild "
                    "the preset from the Flickr8k data with --rebuild.")
    parser.add_argument("model", nargs="?", metavar="MODEL.keras", help="the trained captioner (not with --rebuild)")
    parser.add_argument("--rebuild", action="store_true",
                        help="train from --data with the recipe, then build; installs only if the metrics reproduce")
    parser.add_argument("--name", default=DEFAULT_PRESET, help=f"preset name (default {DEFAULT_PRESET})")
    parser.add_argument("--description", help="one line shown when presets are listed")
    default_data = default_data_dir()
    parser.add_argument("--data", type=Path, default=default_data, metavar="DIR",
                        help=f"Flickr8k-style folder to score on (default {default_data or '../shared/data/flickr8k'})")
    parser.add_argument("--no-score", action="store_true", help="skip the test-split scoring (metrics left empty)")
    parser.add_argument("--tune", action="store_true",
                        help="choose beam width and length penalty on the validation split and store them first")
    parser.add_argument("--out-dir", type=Path, help="registry folder (default: the package's presets folder)")
    parser.add_argument("--work-dir", type=Path, default=Path("preset_build"),
                        help="--rebuild: features cache and trained model (default ./preset_build)")
    shared = shared_data_dir()
    default_weights = str(shared / WEIGHTS_FILE) if shared is not None and (shared / WEIGHTS_FILE).is_file() \
        else "imagenet"
    parser.add_argument("--weights", default=default_weights,
                        help=f"--rebuild: MobileNetV2 weights, a file or imagenet (default {default_weights})")
    parser.add_argument("--seed", type=int, default=0, help="--rebuild: training seed")
    parser.add_argument("--force", action="store_true", help="--rebuild: install even if the metrics differ")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the builder; bad input prints ``error: ...`` (on stderr) and returns 2.

    Example:
        >>> main(["--no-score"])
        2
    """
    from captioner.errors import CaptionerError
    from textmodels.cli import USER_ERRORS

    args = argument_parser().parse_args(argv)
    try:
        if args.rebuild == (args.model is not None):
            raise PresetError("give either MODEL.keras or --rebuild")
        data_dir = None if args.no_score else args.data
        if args.data is None and (args.rebuild or not args.no_score):
            raise PresetError("no data to score on: the shared Flickr8k folder is absent; give --data DIR or "
                              "--no-score")
        if args.rebuild:
            rebuild_preset(args.data, args.work_dir, weights=args.weights, name=args.name, out_dir=args.out_dir,
                           force=args.force, seed=args.seed)
        else:
            build_preset(args.model, args.name, out_dir=args.out_dir, data_dir=data_dir,
                         description=args.description, tune=args.tune)
    except (CaptionerError, *USER_ERRORS) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
