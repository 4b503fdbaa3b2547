"""``captioner caption [MODEL] IMAGE_OR_FOLDER ...``: one line per image, ``file name<TAB>caption``.

MODEL is a ``.keras`` file or a preset's name; without one, the default preset captions
(`captioner.presets.DEFAULT_PRESET`). The model's stored decoding settings apply unless a flag overrides one.
Unreadable files are reported per file (on stderr, or as ``"error"`` entries with ``--json``) while the others
are still captioned; the exit code is then 1.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> split_model_argument(parser.parse_args(["caption", "m.keras", "a.jpg", "pics/"]).inputs)
    ('m.keras', ['a.jpg', 'pics/'])
    >>> split_model_argument(["photo.jpg"])
    (None, ['photo.jpg'])
"""

from __future__ import annotations

import sys
from pathlib import Path

from captioner.commands.common import add_decoding_overrides, load_captioner
from captioner.errors import CaptionDataError
from textmodels.commands.options import add_decoding_options

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm")


def register(subparsers) -> None:
    """Adds ``caption``."""
    parser = subparsers.add_parser(
        "caption", help="caption image files or folders of images",
        usage="%(prog)s [-h] [options] [MODEL] IMAGE_OR_FOLDER [IMAGE_OR_FOLDER ...]",
        description="Caption photos. MODEL (optional) is a .keras file or a preset's name; without it the "
                    "default preset captions.")
    parser.add_argument("inputs", nargs="+", metavar="[MODEL] IMAGE_OR_FOLDER",
                        help="a .keras file or preset name first (optional), then image files or folders")
    add_decoding_overrides(parser)
    add_decoding_options(parser, beam=False, filters=False)  # --temperature samples instead of the beam search
    parser.add_argument("--json", action="store_true", help="print a JSON list of {file, caption | error}")
    parser.set_defaults(handler=run)


def split_model_argument(inputs: list[str]) -> tuple[str | None, list[str]]:
    """``(model or None, images)``: the first argument names the model when it is a ``.keras`` file name or a
    known preset's name (and more arguments follow); otherwise every argument is an image or folder.

    Example:
        >>> split_model_argument(["m.keras", "a.jpg"])
        ('m.keras', ['a.jpg'])
    """
    from captioner.presets import known_presets

    first = inputs[0]
    if first.endswith(".keras") or (len(inputs) > 1 and first in known_presets() and not Path(first).exists()):
        if len(inputs) == 1:
            raise CaptionDataError(f"No images to caption: give image files or folders after the model {first}.")
        return first, list(inputs[1:])
    return None, list(inputs)


def collect_images(inputs: list[str]) -> list[Path]:
    """Files given directly, plus the image files (by suffix, sorted) of every folder given.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> folder = Path(tempfile.mkdtemp())
        >>> for name in ("b.png", "a.jpg", "notes.txt"):
        ...     _ = (folder / name).write_bytes(b"")
        >>> [path.name for path in collect_images([str(folder)])]
        ['a.jpg', 'b.png']
    """
    paths: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            paths.extend(sorted(child for child in path.iterdir()
                                if child.is_file() and child.suffix.lower() in IMAGE_SUFFIXES))
        else:
            paths.append(path)
    if not paths:
        raise CaptionDataError(f"No image files found in {', '.join(inputs)} (looked for {', '.join(IMAGE_SUFFIXES)}).")
    return paths


def run(args) -> int:
    """Prints the captions; returns 1 when some file could not be captioned."""
    from captioner.api import CaptionFailure
    from captioner.commands.common import print_json

    model, inputs = split_model_argument(args.inputs)
    paths = collect_images(inputs)
    captioner = load_captioner(model, args)
    results = captioner.caption([str(path) for path in paths], temperature=args.temperature, seed=args.seed)
    failed = 0
    rows = []
    for path, result in zip(paths, results):
        if isinstance(result, CaptionFailure):
            failed += 1
            rows.append({"file": path.name, "path": str(path), "error": result.error})
            if not args.json:
                print(f"{path.name}\terror: {result.error}", file=sys.stderr)
        else:
            rows.append({"file": path.name, "path": str(path), "caption": result})
            if not args.json:
                print(f"{path.name}\t{result}")
    if args.json:
        print_json(rows)
    return 1 if failed else 0
