"""``captioner evaluate MODEL.keras DATA --images DIR``: BLEU-1..4, METEOR, ROUGE-L and CIDEr-D on a split.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> args = parser.parse_args(["evaluate", "m.keras", "c.json", "--images", "i", "--json"])
    >>> args.split, args.beam_size, args.json
    ('test', None, True)
"""

from __future__ import annotations

from captioner.commands.common import add_data_arguments, add_decoding_overrides

METRIC_ORDER = ("bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rouge_l", "cider")


def register(subparsers) -> None:
    """Adds ``evaluate``."""
    parser = subparsers.add_parser("evaluate", help="caption a split and score it with the COCO metrics")
    parser.add_argument("model", metavar="MODEL", help="the captioner to score: a .keras file or a preset's name")
    add_data_arguments(parser)
    parser.add_argument("--split", default="test", help="which photos are captioned and scored (default test)")
    add_decoding_overrides(parser)
    parser.add_argument("--no-java", action="store_true", help="skip METEOR and the Java PTB tokenizer")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Prints one ``metric value`` line per metric, or a JSON object with --json."""
    from captioner.commands.common import load_captioner, print_json
    from captioner.data.caption_files import read_caption_data
    from captioner.evaluation import evaluate_captioner

    model = load_captioner(args.model, args).model
    records = read_caption_data(args.data, args.images, args.splits, strict=args.strict)
    report = evaluate_captioner(model, records, split=args.split, use_java=not args.no_java)
    decoding = model.decoding_settings()
    result = {key: report.metrics.get(key) for key in METRIC_ORDER}
    warnings = list(report.metrics.get("warnings", []))
    if report.unreadable:
        warnings.append(f"{len(report.unreadable)} unreadable photo(s) left out, e.g. "
                        f"{next(iter(report.unreadable.values()))}")
    result.update(split=args.split, **decoding.get_config(), num_images=report.num_images, warnings=warnings)
    if args.json:
        print_json(result)
        return 0
    print(f"{report.num_images} images of split {args.split!r}, beam {decoding.beam_size}, length penalty "
          f"{decoding.length_penalty:g}")
    for key in METRIC_ORDER:
        value = result[key]
        print(f"{key:8s} {'n/a' if value is None else format(value, '.4f')}")
    for warning in result["warnings"]:
        print(f"warning: {warning}")
    return 0
