"""The in-memory form every caption reader returns, and the checks the readers share.

Example:
    >>> from pathlib import Path
    >>> record = CaptionRecord("7", Path("images/7.jpg"), "train", ("a dog runs",))
    >>> record.split, record.captions[0]
    ('train', 'a dog runs')
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from captioner.errors import CaptionDataError

KNOWN_SPLITS = ("train", "val", "test", "restval", "none")
# Other names the public datasets use for the validation split.
_SPLIT_ALIASES = {"dev": "val", "validation": "val", "valid": "val"}


@dataclass(frozen=True)
class CaptionRecord:
    """One image with its reference captions.

    Example:
        >>> from pathlib import Path
        >>> CaptionRecord("1", Path("a.jpg"), "test", ("a cat", "a kitten")).captions
        ('a cat', 'a kitten')
    """

    image_id: str
    image_path: Path
    split: str
    captions: tuple[str, ...]

    def __post_init__(self):
        if self.split not in KNOWN_SPLITS:
            raise CaptionDataError(
                f"image {self.image_id!r}: split {self.split!r} is not one of {KNOWN_SPLITS}"
            )
        if not self.captions:
            raise CaptionDataError(f"image {self.image_id!r} ({self.image_path}) has no captions")


def normalize_split(value: object, *, where: str) -> str:
    """The canonical split name for ``value`` ("dev" and "validation" become "val").

    Example:
        >>> normalize_split("dev", where="list file"), normalize_split("restval", where="x")
        ('val', 'restval')
    """
    if not isinstance(value, str):
        raise CaptionDataError(f"{where}: split must be a string, got {value!r}")
    name = _SPLIT_ALIASES.get(value.strip().lower(), value.strip().lower())
    if name not in KNOWN_SPLITS:
        raise CaptionDataError(f"{where}: unknown split {value!r} (expected one of {KNOWN_SPLITS} or 'dev')")
    return name


def clean_caption(text: object, *, where: str) -> str:
    """``text`` stripped of surrounding white space; empty or non-string captions raise `CaptionDataError`.

    Example:
        >>> clean_caption("  A dog . ", where="line 3")
        'A dog .'
    """
    if not isinstance(text, str):
        raise CaptionDataError(f"{where}: caption must be a string, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise CaptionDataError(f"{where}: caption is empty or white space only")
    return stripped


def resolve_image_path(image_root: Path, file_name: object, *, where: str) -> Path:
    """``image_root / file_name``, refusing names that are absolute or climb out of the root with ``..``.

    Example:
        >>> from pathlib import Path
        >>> resolve_image_path(Path("imgs"), "a/b.jpg", where="image 1").as_posix()
        'imgs/a/b.jpg'
    """
    if not isinstance(file_name, str) or not file_name.strip():
        raise CaptionDataError(f"{where}: image file name must be a non-empty string, got {file_name!r}")
    # Check both path flavours so a Windows-style name cannot slip past on Linux and vice versa.
    for flavour in (PurePosixPath, PureWindowsPath):
        candidate = flavour(file_name)
        if candidate.is_absolute() or candidate.anchor or ".." in candidate.parts:
            raise CaptionDataError(f"{where}: image file name {file_name!r} escapes the image root")
    return Path(image_root) / file_name


@dataclass
class ImageEntry:
    """A record under construction: readers fill it, `build_records` checks it.

    ``problem`` holds the full message of a defect found while parsing that only matters if the image is kept
    (a reader with ``only_existing=True`` drops images whose file is missing without complaining about their
    captions).

    Example:
        >>> entry = ImageEntry("1", "a.jpg", "train", where="file x")
        >>> entry.captions.append("a dog")
        >>> entry.file_name
        'a.jpg'
    """

    image_id: str
    file_name: str
    split: str
    where: str
    captions: list[str] = field(default_factory=list)
    problem: str | None = None


def build_records(
    entries: Iterable[ImageEntry],
    image_root: str | Path,
    *,
    check_files: bool = True,
    only_existing: bool = False,
) -> list[CaptionRecord]:
    """Turn parsed entries into records, raising `CaptionDataError` for the first defective kept image.

    ``only_existing=True`` leaves out images whose file is missing instead of raising (it implies checking) and
    warns once with their count and an example, so a caption file that names a few absent photos (the official
    Flickr8k token file does) is usable as it is.

    Example:
        >>> entry = ImageEntry("1", "a.jpg", "val", where="demo", captions=["a dog"])
        >>> [r.image_id for r in build_records([entry], "imgs", check_files=False)]
        ['1']
    """
    root = Path(image_root)
    if (check_files or only_existing) and not root.is_dir():
        raise CaptionDataError(f"image root {root} is not a directory")
    records = []
    missing = []
    for entry in entries:
        label = f"{entry.where}: image {entry.image_id!r}"
        path = resolve_image_path(root, entry.file_name, where=label)
        if (check_files or only_existing) and not path.is_file():
            if only_existing:
                missing.append(entry)
                continue
            raise CaptionDataError(f"{label}: image file {path} does not exist")
        if entry.problem is not None:
            raise CaptionDataError(entry.problem)
        if not entry.captions:
            raise CaptionDataError(f"{label} ({entry.file_name}) has no captions")
        records.append(CaptionRecord(entry.image_id, path, entry.split, tuple(entry.captions)))
    if missing:
        captions = sum(len(entry.captions) for entry in missing)
        warnings.warn(
            f"{missing[0].where}: {len(missing)} image(s) with {captions} caption(s) have no photo in {root} and "
            f"are left out (e.g. {missing[0].file_name!r}); {len(records)} image(s) kept.",
            MissingPhotosWarning,
            stacklevel=2,
        )
    return records


class MissingPhotosWarning(UserWarning):
    """Some images of a caption file have no photo on disk and were left out."""
