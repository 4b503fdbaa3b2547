"""Presets: trained captioners shipped with the package, loaded by name, each checked against its SHA-256 digest.

``Captioner.from_preset("flickr8k_mobilenet_v2")`` (or ``captioner caption photo.jpg``, which uses
`DEFAULT_PRESET`) needs no training and no download. ``python -m captioner.presets.build MODEL.keras`` adds a
trained model to the registry (`captioner.presets.build`); docs/presets.md tells the whole story.

Example:
    >>> DEFAULT_PRESET
    'flickr8k_mobilenet_v2'
"""

from captioner.presets.registry import (
    BUILD_COMMAND,
    DEFAULT_PRESET,
    PRESETS_DIR_ENV,
    Preset,
    file_digest,
    known_presets,
    presets_folder,
    read_entry,
    resolve_preset,
)

__all__ = [
    "BUILD_COMMAND", "DEFAULT_PRESET", "PRESETS_DIR_ENV", "Preset", "file_digest", "known_presets", "presets_folder",
    "read_entry", "resolve_preset",
]
