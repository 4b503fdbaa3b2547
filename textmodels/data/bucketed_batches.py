"""Length-bucketed batches: each batch holds texts of similar length and is cut (to a multiple of 8) just
past its longest member, so a recurrent network does not step through columns of padding that no row needs.

Example:
    >>> import numpy as np
    >>> ids = np.array([[5, 0, 0, 0], [6, 7, 8, 9], [5, 6, 0, 0]])
    >>> batches = BucketedBatches(ids, np.array([0, 1, 0]), batch_size=2, shuffle=False)
    >>> [batch[0].shape for batch in (batches[0], batches[1])]  # widths round up to a multiple of 8, at most T
    [(2, 4), (1, 4)]
"""

from __future__ import annotations

import keras
import numpy as np

from textmodels.errors import ConfigurationError

# Batches are formed inside windows of this many batches, so lengths are similar within a batch while the
# order of examples across the epoch stays random.
_WINDOW_BATCHES = 50
# Batch widths are rounded up to a multiple of this, so the training function is traced for few shapes.
_WIDTH_STEP = 8


class BucketedBatches(keras.utils.PyDataset):
    """Yields ``(x, y)`` or ``(x, y, sample_weight)`` batches from post-padded id arrays.

    Args:
        ids: ``(N, T)`` or ``(N, T, F)`` integer inputs; padding is 0 in ``ids[:, :, 0]`` for 3-D inputs.
        targets: ``(N, ...)``; for per-token targets ``(N, T)`` they are cut like ``ids``.
        batch_size: examples per batch.
        token_weights: for per-token targets: weight each real token so that the batch loss is the mean over
            real tokens (Keras averages over every position, padding included, which would otherwise shrink
            the loss of batches with much padding).
        shuffle: new random batches every epoch (seeded by ``seed`` and the epoch number).
    """

    def __init__(self, ids, targets, batch_size: int = 32, token_weights: bool = False, shuffle: bool = True,
                 seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if len(ids) != len(targets):
            raise ValueError(f"ids and targets differ in length: {len(ids)} vs {len(targets)}.")
        if batch_size < 1:
            raise ConfigurationError(f"batch_size must be >= 1, got {batch_size}.")
        self.ids = np.asarray(ids)
        self.targets = np.asarray(targets)
        self.batch_size = batch_size
        self.token_weights = token_weights
        self.shuffle = shuffle
        self.seed = seed
        tokens = self.ids if self.ids.ndim == 2 else self.ids[..., 0]
        self.lengths = (tokens != 0).sum(axis=1)
        self.epoch = 0
        self.batches = self._make_batches(self.epoch)

    def _make_batches(self, epoch: int) -> list[np.ndarray]:
        order = np.arange(len(self.ids))
        rng = np.random.default_rng([self.seed, epoch])
        if self.shuffle:
            order = rng.permutation(order)
        window = self.batch_size * _WINDOW_BATCHES
        batches = []
        for start in range(0, len(order), window):
            chunk = order[start : start + window]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches.extend(chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size))
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return self._vary_first_widths(batches)

    def _vary_first_widths(self, batches: list[np.ndarray]) -> list[np.ndarray]:
        # Keras infers the input signature of the whole epoch from the first two batches: when their widths
        # differ, the time axis becomes dynamic (None); when equal, a later wider batch would be rejected.
        widths = [self._width(rows) for rows in batches]
        if len(batches) > 2 and widths[0] == widths[1]:
            other = next((i for i, width in enumerate(widths) if width != widths[0]), None)
            if other is not None:
                batches[1], batches[other] = batches[other], batches[1]
        return batches

    def _width(self, rows: np.ndarray) -> int:
        longest = max(int(self.lengths[rows].max()), 1)
        return min(-(-longest // _WIDTH_STEP) * _WIDTH_STEP, self.ids.shape[1])

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int):
        return self._batch(self.batches[index])

    def epoch_batches(self, epoch: int):
        """The batches of ``epoch`` in order, whatever epoch ``on_epoch_end`` has reached: what a reader that
        knows the epoch (the tf.data input of `textmodels.training.distribution`) iterates.

        Example:
            >>> ids = np.array([[5, 0], [6, 7], [5, 6], [7, 0]])
            >>> batches = BucketedBatches(ids, np.arange(4), batch_size=2, seed=3)
            >>> [x.shape for x, _ in batches.epoch_batches(0)] == [batches[i][0].shape for i in range(2)]
            True
        """
        for rows in self._make_batches(epoch):
            yield self._batch(rows)

    def _batch(self, rows: np.ndarray):
        width = self._width(rows)
        x = self.ids[rows, :width]
        y = self.targets[rows]
        if not self.token_weights:
            return x, y
        y = y[:, :width]
        real = (x[..., 0] if x.ndim == 3 else x) != 0
        weights = real.astype("float32") * (real.size / max(int(real.sum()), 1))
        return x, y, weights

    def on_epoch_end(self):
        if self.shuffle:
            self.epoch += 1
            self.batches = self._make_batches(self.epoch)
