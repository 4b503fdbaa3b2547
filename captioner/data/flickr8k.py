"""Read the Flickr8k captions: the official ``Flickr8k.token.txt`` or an ``image,caption`` CSV.

Both readers take the official split lists (``Flickr_8k.trainImages.txt`` etc.) as a mapping from split name to
list file; images in no list get split ``"none"``, the ``dev`` list becomes ``"val"``. The full token file
lists some images that are not in the public image archive, so ``only_existing=True`` drops images whose file
is missing (and ignores defects in their captions) instead of raising.

Example:
    >>> from textmodels.data.paths import shared_data_dir
    >>> root = shared_data_dir()
    >>> if root is not None:
    ...     folder = root / "flickr8k_1k"
    ...     records = read_flickr8k_token_file(
    ...         folder / "Flickr8k_text" / "Flickr8k.token.txt", folder / "images_256px",
    ...         split_files=flickr8k_split_files(folder / "Flickr8k_text"), only_existing=True)
    ...     assert len(records) == 1000
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

from captioner.data.records import CaptionRecord, ImageEntry, build_records, clean_caption, normalize_split
from captioner.errors import CaptionDataError

_OFFICIAL_LISTS = {
    "train": "Flickr_8k.trainImages.txt",
    "val": "Flickr_8k.devImages.txt",
    "test": "Flickr_8k.testImages.txt",
}


def flickr8k_split_files(text_dir: str | Path) -> dict[str, Path]:
    """The official split list files inside an unpacked ``Flickr8k_text`` folder.

    Example:
        >>> sorted(flickr8k_split_files("Flickr8k_text"))
        ['test', 'train', 'val']
    """
    return {split: Path(text_dir) / name for split, name in _OFFICIAL_LISTS.items()}


def read_split_lists(split_files: Mapping[str, str | Path] | None) -> dict[str, str]:
    """Map each listed image file name to its split; a name listed under two splits raises.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> path = Path(tempfile.mkdtemp()) / "dev.txt"
        >>> _ = path.write_text("a.jpg\\nb.jpg\\n")
        >>> read_split_lists({"dev": path})
        {'a.jpg': 'val', 'b.jpg': 'val'}
    """
    split_of: dict[str, str] = {}
    for split_name, list_file in (split_files or {}).items():
        path = Path(list_file)
        split = normalize_split(split_name, where=f"split list {path}")
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise CaptionDataError(f"split list {path} does not exist") from None
        for number, line in enumerate(lines, start=1):
            name = line.strip()
            if not name:
                continue
            previous = split_of.setdefault(name, split)
            if previous != split:
                raise CaptionDataError(f"{path}:{number}: {name!r} is already listed under split {previous!r}")
    return split_of


def _add_caption(entries: dict[str, ImageEntry], name: str, caption: str, where: str, path: Path) -> ImageEntry:
    """Adds ``caption`` (read at ``where``) to image ``name``'s entry; a defective caption marks the entry, which is
    fatal only if the image is kept."""
    entry = entries.setdefault(name, ImageEntry(name, name, "none", where=str(path)))
    try:
        entry.captions.append(clean_caption(caption, where=f"{where} (image {name!r})"))
    except CaptionDataError as error:
        entry.problem = entry.problem or str(error)
    return entry


def _records(entries: dict[str, ImageEntry], split_of: Mapping[str, str], image_root: str | Path,
             check_files: bool, only_existing: bool) -> list[CaptionRecord]:
    # The caption file defines the images; split lists only label them (they may list images a subset lacks).
    for entry in entries.values():
        entry.split = split_of.get(entry.file_name, "none")
    return build_records(entries.values(), image_root, check_files=check_files, only_existing=only_existing)


def read_flickr8k_token_file(
    token_txt: str | Path,
    image_root: str | Path,
    split_files: Mapping[str, str | Path] | None = None,
    *,
    check_files: bool = True,
    only_existing: bool = False,
) -> list[CaptionRecord]:
    """Records from ``Flickr8k.token.txt`` (``name.jpg#k<TAB>caption``), one per image, image id = file name.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "t.txt").write_text("a.jpg#0\\tA dog .\\na.jpg#1\\tA puppy .\\n")
        >>> read_flickr8k_token_file(folder / "t.txt", folder, check_files=False)[0].captions
        ('A dog .', 'A puppy .')
    """
    path = Path(token_txt)
    split_of = read_split_lists(split_files)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise CaptionDataError(f"token file {path} does not exist") from None
    except UnicodeDecodeError as error:
        raise CaptionDataError(f"token file {path} is not UTF-8 text: {error}") from None
    entries: dict[str, ImageEntry] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        key, tab, caption = line.partition("\t")
        name, hash_sign, index = key.strip().rpartition("#")
        if not tab or not hash_sign or not name or not index.isdigit():
            raise CaptionDataError(f"{where}: expected 'name.jpg#k<TAB>caption', got {line[:80]!r}")
        if "\t" in caption:
            # Two entries glued on one line; fatal only if this image is kept.
            entry = entries.setdefault(name, ImageEntry(name, name, "none", where=str(path)))
            entry.problem = entry.problem or f"{where} (image {name!r}): line holds more than one caption (extra tab)"
            continue
        _add_caption(entries, name, caption, where, path)
    return _records(entries, split_of, image_root, check_files, only_existing)


def read_flickr8k_csv(
    csv_path: str | Path,
    image_root: str | Path,
    splits: Mapping[str, str | Path] | None = None,
    *,
    check_files: bool = True,
    only_existing: bool = False,
) -> list[CaptionRecord]:
    """Records from an ``image,caption`` CSV with a header row (the Kaggle ``captions.txt`` layout).

    ``splits`` maps split names to the official list files, as in `read_flickr8k_token_file`.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "c.csv").write_text('image,caption\\na.jpg,"A dog , running ."\\n')
        >>> read_flickr8k_csv(folder / "c.csv", folder, check_files=False)[0].captions
        ('A dog , running .',)
    """
    path = Path(csv_path)
    split_of = read_split_lists(splits)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        raise CaptionDataError(f"caption CSV {path} does not exist") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise CaptionDataError(f"caption CSV {path} cannot be parsed: {error}") from None
    if not rows:
        raise CaptionDataError(f"caption CSV {path} is empty")
    header = [column.strip().lower() for column in rows[0]]
    missing = [column for column in ("image", "caption") if column not in header]
    if missing:
        raise CaptionDataError(f"{path}:1: header {rows[0]!r} lacks column(s) {missing}")
    image_column, caption_column = header.index("image"), header.index("caption")
    entries: dict[str, ImageEntry] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        where = f"{path}:{number}"
        if len(row) != len(header):
            raise CaptionDataError(f"{where}: expected {len(header)} fields, got {len(row)}")
        name = row[image_column].strip()
        if not name:
            raise CaptionDataError(f"{where}: empty image file name")
        _add_caption(entries, name, row[caption_column], where, path)
    return _records(entries, split_of, image_root, check_files, only_existing)
