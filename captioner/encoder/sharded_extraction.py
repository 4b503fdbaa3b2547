"""Feature extraction split over the workers of a cluster (``captioner extract-features --distribute
multi-worker``), into one `FeatureCache`.

Every worker takes every N-th photo still missing from the cache and encodes it into a cache of its own, a
shard (``shards/worker-I-of-N/`` inside the cache folder), so no two processes ever write one file; once all
are done (a barrier), the chief copies the shards into the cache and removes them. An interrupted run resumes:
the cache is unchanged until the copy, so the same photos go to the same workers and each shard resumes too.
The cache folder must be one that every worker reads and writes (a shared file system), like the photos.

Example (one worker: the whole cache, as `extract_features` alone would fill it):
    >>> import tempfile
    >>> from PIL import Image
    >>> from textmodels.training.distribution import select_distribution
    >>> folder = tempfile.mkdtemp()
    >>> Image.new("RGB", (8, 8), (0, 255, 0)).save(f"{folder}/green.png")
    >>> cache = open_shared_cache(select_distribution("none"), f"{folder}/cache", ["green"], 3, {"fn": "mean"})
    >>> extract_shards(lambda b: b.mean(axis=(1, 2)), {"green": f"{folder}/green.png"}, cache,
    ...                select_distribution("none"), image_size=(4, 4), progress=False)
    {}
    >>> cache.read(["green"]).tolist()
    [[0.0, 255.0, 0.0]]
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from captioner.encoder.cache import FeatureCache, _id_path_pairs, extract_features


def open_shared_cache(distribution, directory: str | Path, image_ids: Sequence[str], dim: int,
                      encoder_config: Mapping, on_mismatch: str = "raise") -> FeatureCache:
    """The `FeatureCache` every worker fills: the chief opens (or creates, or rebuilds) it first, the others
    open what it made once it is there."""
    if distribution.is_chief:
        cache = FeatureCache(directory, image_ids, dim, encoder_config, on_mismatch=on_mismatch)
        distribution.barrier()
        return cache
    distribution.barrier()
    return FeatureCache(directory, image_ids, dim, encoder_config)


def extract_shards(encoder_fn: Callable[[np.ndarray], np.ndarray], records_or_paths, cache: FeatureCache,
                   distribution, **options) -> dict[str, str]:
    """`extract_features` of this worker's share of the photos missing from ``cache`` (all of them on one
    worker), merged into ``cache`` by the chief once every worker is done; returns this worker's
    ``{image id: error}`` for unreadable photos. ``options``: those of `extract_features`."""
    if distribution.num_workers == 1:
        return extract_features(encoder_fn, records_or_paths, cache, **options)
    pending = cache.missing_ids()
    shards = [pending[index :: distribution.num_workers] for index in range(distribution.num_workers)]
    root = cache.directory / "shards"
    folders = [root / f"worker-{index}-of-{distribution.num_workers}" for index in range(distribution.num_workers)]
    mine = set(shards[distribution.worker_index])
    pairs = [(image_id, path) for image_id, path in _id_path_pairs(records_or_paths) if image_id in mine]
    shard = FeatureCache(folders[distribution.worker_index], shards[distribution.worker_index], cache.dim,
                         cache.encoder_config, on_mismatch="rebuild")
    errors = extract_features(encoder_fn, dict(pairs), shard, **options)
    distribution.barrier()
    if distribution.is_chief:
        for folder, image_ids in zip(folders, shards):
            shard = FeatureCache(folder, image_ids, cache.dim, cache.encoder_config)
            missing = set(shard.missing_ids())
            done = [image_id for image_id in image_ids if image_id not in missing]
            if done:
                cache.write(done, shard.read(done))
        shutil.rmtree(root, ignore_errors=True)
    return errors
