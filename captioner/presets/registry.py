"""The registry of named presets: ready-made captioners that ship inside the package, each a ``.keras`` file with
a small JSON entry beside it (``NAME.json``: file name, SHA-256 digest, size, a short description, its test
metrics and the recipe that made it).

`resolve_preset` turns what a user gives (a preset's name, a ``.keras`` file, or a folder holding one) into the
path to load, after checking the file against its recorded digest: a truncated, corrupted or altered file is
refused with a message, never loaded, so it can never produce a wrong caption. ``$CAPTIONER_PRESETS_DIR``
points the registry at another folder (tests, or a site's own presets). Keras-free: the command line resolves a
preset before TensorFlow loads.

Example:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "tiny.keras").write_bytes(b"model bytes")
    >>> entry = {"name": "tiny", "file": "tiny.keras", "sha256": file_digest(folder / "tiny.keras"),
    ...          "description": "a stand-in", "metrics": {}}
    >>> _ = (folder / "tiny.json").write_text(json.dumps(entry))
    >>> resolve_preset("tiny", folder) == folder / "tiny.keras"
    True
    >>> _ = (folder / "tiny.keras").write_bytes(b"model bytez")
    >>> try:
    ...     resolve_preset("tiny", folder)
    ... except PresetError as error:
    ...     print(str(error)[len(str(folder)) + 1:].split(" (")[0])
    tiny.keras: the file does not match the preset's recorded SHA-256 digest
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from captioner.errors import PresetError

# The preset `captioner caption PHOTO`, `serve` and `export` use when no model is named.
DEFAULT_PRESET = "flickr8k_mobilenet_v2"
# The folder of another registry (tests, a site's own presets) instead of the one shipped in the package.
PRESETS_DIR_ENV = "CAPTIONER_PRESETS_DIR"
_SHIPPED = Path(__file__).resolve().parent
BUILD_COMMAND = "python -m captioner.presets.build"


@dataclass(frozen=True)
class Preset:
    """One registry entry: the ``.keras`` file ``file`` in ``folder``, its SHA-256 digest, what it is and how well
    it captions (``metrics``: test-split scores measured when the file was built).

    Example:
        >>> preset = Preset("tiny", "tiny.keras", "0" * 64, "a stand-in", folder=Path("/presets"))
        >>> preset.path.as_posix()
        '/presets/tiny.keras'
    """

    name: str
    file: str
    sha256: str
    description: str
    metrics: dict = field(default_factory=dict)
    folder: Path = _SHIPPED
    # Everything else the entry records (size, recipe, decoding, data), as written by the builder.
    details: dict = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.folder / self.file

    def verified_path(self) -> Path:
        """The preset's file, after checking that it exists and matches the recorded digest (`PresetError`
        otherwise, saying what is wrong and how to get a good file).

        Example:
            >>> try:
            ...     Preset("tiny", "tiny.keras", "0" * 64, "", folder=Path("/nowhere")).verified_path()
            ... except PresetError as error:
            ...     print(str(error).split(";")[0])
            preset 'tiny': its file /nowhere/tiny.keras is missing
        """
        path = self.path
        if not path.is_file():
            raise PresetError(f"preset {self.name!r}: its file {path} is missing; rebuild it with "
                              f"`{BUILD_COMMAND}` (see docs/presets.md)")
        actual = file_digest(path)
        if actual != self.sha256:
            size, recorded = path.stat().st_size, self.details.get("size_bytes")
            sizes = f"{size:,} bytes" + (f" where {recorded:,} were recorded" if recorded is not None else "")
            raise PresetError(
                f"{path}: the file does not match the preset's recorded SHA-256 digest ({actual[:16]}... instead of "
                f"{self.sha256[:16]}...; {sizes}); it is truncated, corrupted or altered, so it is refused. "
                f"Restore it (git checkout / reinstall the package) or rebuild it with `{BUILD_COMMAND}`.")
        return path


def presets_folder() -> Path:
    """The registry's folder: ``$CAPTIONER_PRESETS_DIR`` when set, else the one shipped in this package.

    Example:
        >>> presets_folder().name in ("presets", os.environ.get(PRESETS_DIR_ENV, "presets").rstrip("/").split("/")[-1])
        True
    """
    configured = os.environ.get(PRESETS_DIR_ENV)
    return Path(configured) if configured else _SHIPPED


def known_presets(folder: str | Path | None = None) -> dict[str, Preset]:
    """``{name: Preset}`` for every entry (``*.json``) of the registry in ``folder`` (default `presets_folder`).

    Example:
        >>> import tempfile
        >>> known_presets(tempfile.mkdtemp())
        {}
    """
    folder = Path(folder) if folder is not None else presets_folder()
    presets = {}
    for entry_path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        preset = read_entry(entry_path)
        presets[preset.name] = preset
    return presets


def read_entry(entry_path: str | Path) -> Preset:
    """The `Preset` described by the registry entry ``entry_path`` (`PresetError` naming it when malformed).

    Example:
        >>> import json, tempfile
        >>> from pathlib import Path
        >>> path = Path(tempfile.mkdtemp()) / "a.json"
        >>> _ = path.write_text(json.dumps({"name": "a", "file": "a.keras", "sha256": "0" * 64}))
        >>> read_entry(path).file
        'a.keras'
    """
    entry_path = Path(entry_path)
    try:
        entry = json.loads(entry_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as reason:
        raise PresetError(f"{entry_path}: not a readable preset entry ({reason})") from None
    missing = [key for key in ("name", "file", "sha256") if not isinstance(entry, dict) or
               not isinstance(entry.get(key), str)]
    if missing:
        raise PresetError(f"{entry_path}: a preset entry needs the text fields name, file and sha256 "
                          f"(missing or not text: {', '.join(missing)})")
    known = {"name", "file", "sha256", "description", "metrics"}
    return Preset(entry["name"], entry["file"], entry["sha256"].lower(), str(entry.get("description", "")),
                  dict(entry.get("metrics") or {}), entry_path.parent,
                  {key: value for key, value in entry.items() if key not in known})


def file_digest(path: str | Path) -> str:
    """The SHA-256 digest of the file ``path``, in hex.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> path = Path(tempfile.mkdtemp()) / "empty"
        >>> _ = path.write_bytes(b"")
        >>> file_digest(path)[:16]
        'e3b0c44298fc1c14'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_preset(preset: str | Path, folder: str | Path | None = None) -> Path:
    """The ``.keras`` file to load for ``preset``: a known preset's name (its file checked against its digest), a
    ``.keras`` file, or a folder holding exactly one. A file with a registry entry beside it (``NAME.json`` naming
    it) is checked against that entry's digest too. An unknown name raises `PresetError` listing the known ones.

    Example:
        >>> import tempfile
        >>> try:
        ...     resolve_preset("imagenet_resnet", tempfile.mkdtemp())
        ... except PresetError as error:
        ...     print(str(error).replace("; ", ";\\n"))
        unknown preset 'imagenet_resnet';
        no presets are installed (build one with `python -m captioner.presets.build`, see docs/presets.md)
    """
    presets = known_presets(folder)
    name = str(preset)
    if name in presets:
        return presets[name].verified_path()
    path = Path(preset).expanduser()
    if path.is_dir():
        candidates = sorted(path.glob("*.keras"))
        if len(candidates) != 1:
            found = ", ".join(candidate.name for candidate in candidates) or "none"
            raise PresetError(f"{path}: a preset folder must hold exactly one .keras file (found: {found})")
        path = candidates[0]
    if path.is_file():
        return _verified_if_registered(path)
    if path.is_symlink():
        raise PresetError(f"{path}: a symbolic link to a missing file ({os.readlink(path)})")
    if isinstance(preset, Path) or path.suffix == ".keras" or os.sep in name:
        raise PresetError(f"{path}: no such model file or folder")
    if presets:
        listing = "known presets: " + ", ".join(
            f"{key} ({entry.description})" if entry.description else key for key, entry in presets.items())
    else:
        listing = f"no presets are installed (build one with `{BUILD_COMMAND}`, see docs/presets.md)"
    raise PresetError(f"unknown preset {name!r}; {listing}")


def _verified_if_registered(path: Path) -> Path:
    """``path``, checked against the registry entry beside it when there is one that names it."""
    entry_path = path.with_suffix(".json")
    if entry_path.is_file():
        preset = read_entry(entry_path)
        if preset.file == path.name:
            return preset.verified_path()
    return path
