"""An on-disk cache of one float32 feature vector per image, safe to interrupt and resume.

Encoding thousands of images through a CNN takes long, so features are computed once and stored in a folder:

- ``meta.json``: format version, image ids, feature size and the encoder configuration with its SHA-256;
- ``features.npy``: a ``(num_images, dim)`` float32 array, written in place through a memory map;
- ``done.npy``: one ``uint8`` flag per row, set only after that row's features were flushed to disk.

A cache is used only when its metadata matches the requested ids, size and encoder configuration and its files
are intact; otherwise it raises `CacheMismatchError` (or, with ``on_mismatch="rebuild"``, starts over). Files are
read with ``allow_pickle=False`` only.

Example:
    >>> import tempfile
    >>> import numpy as np
    >>> cache = FeatureCache(tempfile.mkdtemp(), ["a", "b"], dim=3, encoder_config={"name": "demo"})
    >>> cache.write(["b"], np.ones((1, 3), np.float32))
    >>> cache.missing_ids(), cache.read(["b"]).tolist()
    (['a'], [[1.0, 1.0, 1.0]])
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import keras
import numpy as np
from tqdm import tqdm

from captioner.data.records import CaptionRecord
from captioner.errors import CaptionerError
from textmodels.atomic_files import write_text_atomically
from textmodels.errors import ConfigurationError

FORMAT = "captioner-feature-cache"
VERSION = 1
META_FILE, FEATURES_FILE, DONE_FILE = "meta.json", "features.npy", "done.npy"


class FeatureCacheError(CaptionerError, ValueError):
    """A feature cache was used wrongly (unknown id, features of the wrong shape, reading unfinished rows)."""


class CacheMismatchError(FeatureCacheError):
    """The cache on disk belongs to other ids, size or encoder configuration, or its files are damaged."""


def config_hash(encoder_config: Mapping) -> str:
    """SHA-256 of the canonical JSON form of ``encoder_config`` (key order does not matter).

    Example:
        >>> config_hash({"a": 1, "b": 2}) == config_hash({"b": 2, "a": 1})
        True
    """
    try:
        text = json.dumps(encoder_config, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise FeatureCacheError(f"encoder_config must be JSON-serialisable: {error}") from None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _ids_hash(image_ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(image_ids).encode("utf-8")).hexdigest()


class FeatureCache:
    """Features of ``image_ids`` (``dim`` floats each) computed by the encoder described by ``encoder_config``.

    ``on_mismatch`` is ``"raise"`` (default: raise `CacheMismatchError` when the folder holds a different or
    damaged cache) or ``"rebuild"`` (delete it and start empty).

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> folder = tempfile.mkdtemp()
        >>> cache = FeatureCache(folder, ["x"], dim=2, encoder_config={"layers": 4})
        >>> cache.write(["x"], np.array([[0.5, 1.5]], np.float32))
        >>> FeatureCache(folder, ["x"], dim=2, encoder_config={"layers": 4}).is_complete()  # resumed from disk
        True
    """

    def __init__(
        self,
        directory: str | Path,
        image_ids: Iterable[str],
        dim: int,
        encoder_config: Mapping,
        on_mismatch: str = "raise",
    ):
        if on_mismatch not in ("raise", "rebuild"):
            raise ValueError(f"on_mismatch must be 'raise' or 'rebuild', got {on_mismatch!r}")
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise FeatureCacheError(f"dim must be a positive integer, got {dim!r}")
        self.directory = Path(directory)
        self.image_ids = [str(image_id) for image_id in image_ids]
        self.dim = int(dim)
        self.encoder_config = dict(encoder_config)
        self._row = {image_id: row for row, image_id in enumerate(self.image_ids)}
        if len(self._row) != len(self.image_ids):
            duplicate = next(i for n, i in enumerate(self.image_ids) if self._row[i] != n)
            raise FeatureCacheError(f"image id {duplicate!r} appears more than once")
        self._expected_meta = {
            "format": FORMAT,
            "version": VERSION,
            "dim": self.dim,
            "dtype": "float32",
            "num_images": len(self.image_ids),
            "image_ids_sha256": _ids_hash(self.image_ids),
            "encoder_config_sha256": config_hash(self.encoder_config),
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        if (self.directory / META_FILE).exists():
            try:
                self._open_existing()
            except CacheMismatchError:
                if on_mismatch == "raise":
                    raise
                self._create()
        else:
            # No metadata means no cache was ever completed here (it is written last), so nothing to trust.
            self._create()

    def _path(self, name: str) -> Path:
        return self.directory / name

    def _create(self) -> None:
        for name in (META_FILE, FEATURES_FILE, DONE_FILE):
            self._path(name).unlink(missing_ok=True)
        rows = len(self.image_ids)
        self._features = np.lib.format.open_memmap(
            self._path(FEATURES_FILE), mode="w+", dtype=np.float32, shape=(rows, self.dim)
        )
        self._done = np.lib.format.open_memmap(self._path(DONE_FILE), mode="w+", dtype=np.uint8, shape=(rows,))
        self._features.flush()
        self._done.flush()
        meta = {**self._expected_meta, "encoder_config": self.encoder_config, "image_ids": self.image_ids}
        write_text_atomically(self._path(META_FILE), json.dumps(meta))

    def _open_existing(self) -> None:
        meta_path = self._path(META_FILE)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CacheMismatchError(f"cache metadata {meta_path} is unreadable: {error}") from None
        if not isinstance(meta, dict):
            raise CacheMismatchError(f"cache metadata {meta_path} is not a JSON object")
        for key, expected in self._expected_meta.items():
            if meta.get(key) != expected:
                raise CacheMismatchError(
                    f"cache in {self.directory} does not match: {key} is {meta.get(key)!r} on disk, "
                    f"{expected!r} requested (pass on_mismatch='rebuild' or use another folder)"
                )
        self._features = self._open_array(FEATURES_FILE, np.float32, (len(self.image_ids), self.dim))
        self._done = self._open_array(DONE_FILE, np.uint8, (len(self.image_ids),))

    def _open_array(self, name: str, dtype, shape: tuple[int, ...]) -> np.memmap:
        path = self._path(name)
        expected = f"{np.dtype(dtype)} {shape}"
        try:
            with path.open("rb") as handle:
                version = np.lib.format.read_magic(handle)
                read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
                if version not in read_header:
                    raise ValueError(f"unsupported .npy version {version}")
                found_shape, fortran_order, found_dtype = read_header[version](handle)
                data_offset = handle.tell()
        except (OSError, ValueError) as error:
            raise CacheMismatchError(f"cache file {path} is missing or damaged: {error}") from None
        if found_dtype != np.dtype(dtype) or tuple(found_shape) != shape or fortran_order:
            raise CacheMismatchError(f"cache file {path} holds {found_dtype} {tuple(found_shape)}, expected {expected}")
        # Memory-mapping with r+ silently extends a short file with zeros, so check truncation first.
        size = path.stat().st_size
        if size != data_offset + int(np.prod(shape)) * np.dtype(dtype).itemsize:
            raise CacheMismatchError(f"cache file {path} is missing or damaged: {size} bytes, truncated or padded")
        array = np.lib.format.open_memmap(path, mode="r+")
        if name == DONE_FILE and np.any(array > 1):
            raise CacheMismatchError(f"cache file {path} holds done flags other than 0 and 1")
        return array

    def _rows(self, image_ids: Iterable[str]) -> np.ndarray:
        rows = []
        for image_id in image_ids:
            row = self._row.get(str(image_id))
            if row is None:
                raise FeatureCacheError(f"image id {str(image_id)!r} is not in this cache ({self.directory})")
            rows.append(row)
        return np.asarray(rows, dtype=np.int64)

    def __contains__(self, image_id: object) -> bool:
        """True when ``image_id`` is one of the cache's ids (stored or not).

        Example:
            >>> import tempfile
            >>> "a" in FeatureCache(tempfile.mkdtemp(), ["a"], 1, {})
            True
        """
        return str(image_id) in self._row

    def missing_ids(self) -> list[str]:
        """Ids whose features are not stored yet, in the cache's id order.

        Example:
            >>> import tempfile
            >>> FeatureCache(tempfile.mkdtemp(), ["p", "q"], 1, {}).missing_ids()
            ['p', 'q']
        """
        return [self.image_ids[row] for row in np.flatnonzero(self._done == 0)]

    def is_complete(self) -> bool:
        """True when every id has stored features.

        Example:
            >>> import tempfile
            >>> FeatureCache(tempfile.mkdtemp(), [], 4, {}).is_complete()
            True
        """
        return bool(np.all(self._done == 1))

    def write(self, image_ids: Sequence[str], features) -> None:
        """Store ``features`` (shape ``(len(image_ids), dim)``, finite) for ``image_ids`` and flush to disk.

        Example:
            >>> import tempfile
            >>> import numpy as np
            >>> cache = FeatureCache(tempfile.mkdtemp(), ["a"], 2, {})
            >>> cache.write(["a"], np.zeros((1, 2)))
            >>> cache.is_complete()
            True
        """
        rows = self._rows(image_ids)
        values = np.asarray(features, dtype=np.float32)
        if values.shape != (len(rows), self.dim):
            raise FeatureCacheError(f"features have shape {values.shape}, expected {(len(rows), self.dim)}")
        if not np.all(np.isfinite(values)):
            bad = str(image_ids[int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])])
            raise FeatureCacheError(f"features for image id {bad!r} contain NaN or infinity")
        self._features[rows] = values
        # Features reach the disk before their done flags, so a crash in between only costs a recomputation.
        self._features.flush()
        self._done[rows] = 1
        self._done.flush()

    def read(self, image_ids: Sequence[str]) -> np.ndarray:
        """The stored features of ``image_ids`` as a new ``(len(image_ids), dim)`` float32 array.

        Example:
            >>> import tempfile
            >>> import numpy as np
            >>> cache = FeatureCache(tempfile.mkdtemp(), ["a", "b"], 1, {})
            >>> cache.write(["a", "b"], [[1.0], [2.0]])
            >>> cache.read(["b", "a"]).ravel().tolist()
            [2.0, 1.0]
        """
        rows = self._rows(image_ids)
        unfinished = [self.image_ids[row] for row in rows if self._done[row] != 1]
        if unfinished:
            raise FeatureCacheError(
                f"features for {len(unfinished)} image id(s) are not computed yet, e.g. {unfinished[0]!r}"
            )
        values = np.array(self._features[rows], dtype=np.float32)
        if not np.all(np.isfinite(values)):
            raise CacheMismatchError(f"cache file {self._path(FEATURES_FILE)} holds non-finite values (damaged)")
        return values


def read_features(features, image_ids: Sequence[str]) -> np.ndarray:
    """``(len(image_ids), dim)`` float32 features from a `FeatureCache` or an ``{image_id: vector}`` mapping.

    Example:
        >>> read_features({"a": [1.0, 2.0], "b": [3.0, 4.0]}, ["b"]).tolist()
        [[3.0, 4.0]]
    """
    if isinstance(features, FeatureCache):
        return features.read(image_ids)
    return np.stack([np.asarray(features[image_id], np.float32) for image_id in image_ids])


def _id_path_pairs(items) -> list[tuple[str, Path]]:
    if isinstance(items, Mapping):
        pairs = [(str(image_id), Path(path)) for image_id, path in items.items()]
    else:
        pairs = []
        for item in items:
            if isinstance(item, CaptionRecord):
                pairs.append((item.image_id, item.image_path))
            elif isinstance(item, (str, Path)):
                pairs.append((str(item), Path(item)))
            else:
                raise FeatureCacheError(
                    f"expected CaptionRecord, path or a {{image_id: path}} mapping, got {type(item).__name__}"
                )
    # One image may be captioned by several records; it is encoded once.
    return list(dict(pairs).items())


def extract_features(
    encoder_fn: Callable[[np.ndarray], np.ndarray],
    records_or_paths,
    cache: FeatureCache,
    batch_size: int = 32,
    image_size: tuple[int, int] = (224, 224),
    progress: bool = True,
) -> dict[str, str]:
    """Encode every image not yet in ``cache`` and store its features; return ``{image id: error}`` for bad images.

    ``records_or_paths`` holds `CaptionRecord` objects (id = ``image_id``), paths (id = the path as a string) or
    is a ``{image_id: path}`` mapping. Images are decoded and resized in parallel by a ``tf.data`` pipeline and
    passed to ``encoder_fn`` as float32 RGB batches in 0..255 (apply e.g. `vgg_preprocess` inside
    ``encoder_fn``), which must return ``(batch, cache.dim)``. Ids already stored are skipped; bad images are
    left missing (a later call retries them) and reported instead of stopping the run.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from PIL import Image
        >>> folder = tempfile.mkdtemp()
        >>> Image.new("RGB", (8, 8), (255, 0, 0)).save(f"{folder}/red.png")
        >>> cache = FeatureCache(f"{folder}/cache", ["red"], dim=3, encoder_config={"fn": "mean"})
        >>> extract_features(lambda b: b.mean(axis=(1, 2)), {"red": f"{folder}/red.png"}, cache,
        ...                  image_size=(4, 4), progress=False)
        {}
        >>> cache.read(["red"]).tolist()
        [[255.0, 0.0, 0.0]]
    """
    import tensorflow as tf  # tf.data only; the rest of the module stays backend-neutral

    if batch_size < 1:
        raise ConfigurationError(f"batch_size must be positive, got {batch_size}")
    pairs = _id_path_pairs(records_or_paths)
    unknown = [image_id for image_id, _ in pairs if image_id not in cache]
    if unknown:
        # Fail now, not after an hour of encoding.
        raise FeatureCacheError(f"{len(unknown)} image id(s) are not in the cache, e.g. {unknown[0]!r}")
    missing = set(cache.missing_ids())
    pending = [(image_id, path) for image_id, path in pairs if image_id in missing]
    errors: dict[str, str] = {}
    if not pending:
        return errors
    from captioner.data.pipeline import decoded_images

    dataset = (
        decoded_images([path for _, path in pending], image_size).batch(batch_size).prefetch(tf.data.AUTOTUNE)
    )
    with tqdm(total=len(pending), desc="encoding images", unit="img", disable=not progress) as bar:
        for indices, images, ok, messages in dataset.as_numpy_iterator():
            ids = [pending[int(index)][0] for index in indices]
            for image_id, good, message in zip(ids, ok, messages):
                if not good:
                    errors[image_id] = message.decode("utf-8")
            # The whole batch goes through the encoder (bad rows are zeros) so its input shape stays fixed.
            features = keras.ops.convert_to_numpy(encoder_fn(images))
            if features.shape != (len(ids), cache.dim):
                raise FeatureCacheError(
                    f"encoder_fn returned shape {features.shape} for a batch of {len(ids)}, "
                    f"expected {(len(ids), cache.dim)}"
                )
            good_rows = np.flatnonzero(ok)
            if good_rows.size:
                cache.write([ids[row] for row in good_rows], features[good_rows])
            bar.update(len(ids))
            if errors:
                bar.set_postfix(bad=len(errors))
    return errors
