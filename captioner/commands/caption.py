"""``captioner caption MODEL.keras IMAGE_OR_FOLDER ...``: one line per image, ``file name<TAB>caption``.

Unreadable files are reported per file (on stderr, or as ``"error"`` entries with ``--json``) while the others
are still captioned; the exit code is then 1.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["caption", "m.keras", "a.jpg", "pics/"]).inputs
    ['a.jpg', 'pics/']
"""

from __future__ import annotations

import sys
from pathlib import Path

from captioner.errors import CaptionDataError
from textmodels.commands.options import add_decoding_options

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm")


def register(subparsers) -> None:
    """Adds ``caption``."""
    parser = subparsers.add_parser("caption", help="caption image files or folders of images")
    parser.add_argument("model", metavar="MODEL.keras", help="the captioner")
    parser.add_argument("inputs", nargs="+", metavar="IMAGE_OR_FOLDER",
                        help="image files, and folders whose image files are all captioned")
    add_decoding_options(parser, beam_size=3, filters=False)  # --temperature samples instead of the beam search
    parser.add_argument("--json", action="store_true", help="print a JSON list of {file, caption | error}")
    parser.set_defaults(handler=run)


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
    from captioner.api import Captioner, CaptionFailure
    from captioner.commands.common import print_json

    captioner = Captioner.load(args.model)
    paths = collect_images(args.inputs)
    results = captioner.caption([str(path) for path in paths], beam_size=args.beam_size,
                                temperature=args.temperature, seed=args.seed)
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
