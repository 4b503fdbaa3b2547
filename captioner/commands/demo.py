"""``captioner demo``: the README's main command, with no download. It runs `captioner.demo.run_demo` (the
synthetic shapes: the captioner and its image-blind baseline, trained and scored) and prints BLEU-1..4 and CIDEr-D
of both with a few example captions.

``captioner demo --data flickr8k DIR`` does the same for real photos in a Flickr8k-style folder
(`captioner.photo_demo.train_photo_captioner`): pretrained features (MobileNetV2 by default) extracted once into
``--work-dir``, the decoder trained on them, the decoding chosen on the validation split, the test split scored,
one ``.keras`` file saved. The options' defaults are those of the two functions.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["demo", "--num-images", "50"]).num_images
    50
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from captioner.demo import DEMO_METRICS, run_demo
from textmodels.commands import options
from textmodels.errors import ConfigurationError


def register(subparsers) -> None:
    """Adds ``demo``."""
    from captioner.config import ENCODERS, PHOTO_DECODER
    from captioner.data.synthetic import WORD_ORDERS
    from captioner.photo_demo import train_photo_captioner

    defaults, photo_defaults = options.defaults_of(run_demo), options.defaults_of(train_photo_captioner)
    parser = subparsers.add_parser("demo", help="train and evaluate a captioner on synthetic shapes (no download) "
                                                "or on a folder of Flickr8k-style photos")
    parser.add_argument("--data", choices=("synthetic", "flickr8k"), default="synthetic",
                        help="synthetic shapes drawn on the fly (default), or the photos of DATA_DIR")
    parser.add_argument("data_dir", nargs="?", metavar="DATA_DIR",
                        help="with --data flickr8k: a folder with a caption file and the photos")
    parser.add_argument("--encoder", choices=ENCODERS[1:], default=photo_defaults["encoder"],
                        help=f"with --data flickr8k: the pretrained encoder (default {photo_defaults['encoder']})")
    parser.add_argument("--weights", default=photo_defaults["weights"], metavar="imagenet|FILE",
                        help="with --data flickr8k: encoder weights (default imagenet, the download)")
    parser.add_argument("--work-dir", metavar="DIR", help="where data and models go (default: a temporary folder; "
                        "with --data flickr8k: ./flickr8k_demo, kept so that later runs reuse the features)")
    parser.add_argument("--num-images", type=options.positive_int, default=defaults["num_images"],
                        help=f"synthetic images to draw (default {defaults['num_images']})")
    parser.add_argument("--image-size", type=options.positive_int, default=defaults["image_size"],
                        help=f"side of the synthetic images, in pixels (default {defaults['image_size']})")
    parser.add_argument("--epochs", type=options.positive_int, default=None,
                        help=f"at most; stops early on val_loss (default {defaults['epochs']} synthetic, "
                        f"{PHOTO_DECODER['epochs']} photos)")
    parser.add_argument("--examples", type=options.non_negative_int, default=defaults["examples"],
                        help=f"example captions to show (default {defaults['examples']})")
    parser.add_argument("--seed", type=int, default=defaults["seed"],
                        help=f"seed of the data and the training (default {defaults['seed']})")
    parser.add_argument("--word-order", choices=WORD_ORDERS, default=defaults["word_order"],
                        help="any: captions also name the lower or right object first (harder; see the README)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    options.add_quiet_option(parser)
    parser.set_defaults(handler=run)


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
            verbose=0 if args.json or args.quiet else 2,
        )
        if args.json:
            print_json(results)
        else:
            print_photo_results(results)
        return 0
    settings = dict(num_images=args.num_images, image_size=args.image_size, examples=args.examples, seed=args.seed,
                    word_order=args.word_order, verbose=0 if args.json or args.quiet else 2)
    if args.epochs is not None:
        settings["epochs"] = args.epochs
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
