"""``captioner demo``: the README's main command, with no download.

It writes the synthetic shapes dataset, trains the captioner (small VGG-style encoder learned from scratch, GRU
decoder with the image injected at the first step) and the same decoder without the image (the image-blind
baseline), then prints BLEU-1..4 and CIDEr-D of both on the held-out test images and a few example captions.

``captioner demo --data flickr8k DIR`` does the same for real photos in a Flickr8k-style folder: pretrained
features (MobileNetV2 by default) extracted once into ``--work-dir``, the decoder trained on them, the decoding
chosen on the validation split, the test split scored, one ``.keras`` file saved (`captioner.photo_demo`).

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["demo", "--num-images", "50"]).num_images
    50
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

from textmodels.errors import ConfigurationError

DEMO_METRICS = ("bleu1", "bleu2", "bleu3", "bleu4", "cider")


def register(subparsers) -> None:
    """Adds ``demo``."""
    from captioner.config import ENCODERS
    from captioner.data.synthetic import WORD_ORDERS

    parser = subparsers.add_parser("demo", help="train and evaluate a captioner on synthetic shapes (no download) "
                                                "or on a folder of Flickr8k-style photos")
    parser.add_argument("--data", choices=("synthetic", "flickr8k"), default="synthetic",
                        help="synthetic shapes drawn on the fly (default), or the photos of DATA_DIR")
    parser.add_argument("data_dir", nargs="?", metavar="DATA_DIR",
                        help="with --data flickr8k: a folder with a caption file and the photos")
    parser.add_argument("--encoder", choices=ENCODERS[1:], default="mobilenet_v2",
                        help="with --data flickr8k: the pretrained encoder (default mobilenet_v2)")
    parser.add_argument("--weights", default="imagenet", metavar="imagenet|FILE",
                        help="with --data flickr8k: encoder weights (default imagenet, the download)")
    parser.add_argument("--work-dir", metavar="DIR", help="where data and models go (default: a temporary folder; "
                        "with --data flickr8k: ./flickr8k_demo, kept so that later runs reuse the features)")
    parser.add_argument("--num-images", type=int, default=2000)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=None,
                        help="at most; stops early on val_loss (default 12 synthetic, 20 photos)")
    parser.add_argument("--examples", type=int, default=5, help="example captions to show")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--word-order", choices=WORD_ORDERS, default="reading",
                        help="any: captions also name the lower or right object first (harder; see the README)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(handler=run)


def demo_config(image_size: int = 64, epochs: int = 12, seed: int = 0):
    """The captioner settings of the demo.

    Example:
        >>> demo_config().inject
        'first_step'
    """
    from captioner.config import CaptionerConfig

    return CaptionerConfig(
        encoder="small", image_size=image_size, conv_filters=(16, 32, 64), feature_dim=4096,
        embedding_dim=64, units=256, cell="gru", inject="first_step", min_count=1, max_length=14,
        batch_size=32, epochs=epochs, learning_rate=1e-3, patience=4, seed=seed,
    )


def run_demo(work_dir: str | Path, num_images: int = 2000, image_size: int = 64, epochs: int = 12,
             examples: int = 5, seed: int = 0, word_order: str = "reading", verbose: int = 2) -> dict:
    """Build the data, train both models, evaluate them; return metrics, timings and example captions.

    Example:
        >>> run_demo.__name__
        'run_demo'
    """
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
    results = {"num_images": num_images, "test_images": sum(record.split == "test" for record in records),
               "image_size": image_size, "epochs": epochs, "word_order": word_order, "models": {}}
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
                for record in [record for record in records if record.split == "test"][:examples]
            ],
        }
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


def print_results(results: dict) -> None:
    """The metrics table, then example captions of both models beside a reference.

    Example:
        >>> print_results({"num_images": 1, "test_images": 1, "image_size": 32, "epochs": 1, "seconds": 1.0,
        ...                "models": {}})
        synthetic shapes: 1 images (1 held out for test), 32 px, 1 epochs, 1.0 s in all
        model                   BLEU-1  BLEU-2  BLEU-3  BLEU-4   CIDEr
    """
    print(f"synthetic shapes: {results['num_images']} images ({results['test_images']} held out for test), "
          f"{results['image_size']} px, {results['epochs']} epochs, {results['seconds']} s in all")
    print(f"{'model':22s}" + "".join(f"{label:>8s}" for label in ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "CIDEr")))
    for name, result in results["models"].items():
        print(f"{name:22s}" + "".join(f"{result['metrics'][key]:8.3f}" for key in DEMO_METRICS))
    models = list(results["models"].items())
    if not models:
        return
    print("\nexamples (test images):")
    for index, example in enumerate(models[0][1]["examples"]):
        print(f"  {example['image']}")
        print(f"    reference: {example['reference']}")
        for name, result in models:
            print(f"    {name + ':':22s} {result['examples'][index]['caption']}")
    saved = models[0][1]["path"]
    if Path(saved).is_file():  # a temporary work folder is gone by now
        print(f"\nsaved: {saved}  (try: captioner caption {saved} IMAGE)")


def print_photo_results(results: dict) -> None:
    """Test metrics, the chosen decoding and example captions of a photo demo.

    Example:
        >>> print_photo_results({"images": 2, "epochs": 1, "encoder": "mobilenet_v2", "seconds": 3.0,
        ...                      "model": "m.keras", "unreadable": {}})
        2 photos, mobilenet_v2 features, 1 epochs, 3.0 s in all
        saved: m.keras  (try: captioner caption m.keras PHOTO.jpg)
    """
    print(f"{results['images']} photos, {results['encoder']} features, {results['epochs']} epochs, "
          f"{results['seconds']} s in all")
    if results["unreadable"]:
        print(f"{len(results['unreadable'])} unreadable photo(s) left out, e.g. "
              f"{next(iter(results['unreadable'].values()))}")
    if "decoding" in results:
        print(f"decoding chosen on the validation split: {results['decoding']}")
    if "test_metrics" in results:
        print("test: " + "  ".join(f"{key} {value:.3f}" for key, value in results["test_metrics"].items()))
        for example in results["examples"]:
            print(f"  {example['image']}\n    reference: {example['reference']}\n    captioner: {example['caption']}")
    print(f"saved: {results['model']}  (try: captioner caption {results['model']} PHOTO.jpg)")


def run(args) -> int:
    """Runs the demo in ``--work-dir`` (or a temporary folder) and prints the results."""
    from captioner.commands.common import print_json

    if args.data == "flickr8k":
        from captioner.photo_demo import train_photo_captioner

        if not args.data_dir:
            raise ConfigurationError("--data flickr8k needs DATA_DIR, a folder with a caption file and the photos.")
        results = train_photo_captioner(
            args.data_dir, args.work_dir or "flickr8k_demo", encoder=args.encoder,
            weights=None if args.weights.lower() == "none" else args.weights, epochs=args.epochs, seed=args.seed,
            verbose=0 if args.json else 2,
        )
        if args.json:
            print_json(results)
        else:
            print_photo_results(results)
        return 0
    epochs = 12 if args.epochs is None else args.epochs
    settings = dict(num_images=args.num_images, image_size=args.image_size, epochs=epochs,
                    examples=args.examples, seed=args.seed, word_order=args.word_order, verbose=0 if args.json else 2)
    if args.work_dir:
        results = run_demo(args.work_dir, **settings)
    else:
        with tempfile.TemporaryDirectory(prefix="captioner-demo-") as folder:
            results = run_demo(folder, **settings)
    if args.json:
        print_json(results)
    else:
        print_results(results)
    return 0
