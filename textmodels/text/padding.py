"""Post-padding and truncation of id sequences.

Post-padding is the default on purpose: right-padded masks keep Keras' fused (cuDNN) LSTM/GRU kernels
usable, and without a mask pre-padding would feed the backward direction of a bidirectional layer its
padding first.

Example:
    >>> pad_sequences([[5, 6, 7], [8]], max_length=2).tolist()
    [[5, 6], [8, 0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_SIDES = ("pre", "post")


def pad_sequences(
    sequences: Sequence[Sequence[int]],
    max_length: int | None = None,
    padding: str = "post",
    truncating: str = "post",
    value: int = 0,
    dtype: str = "int32",
) -> np.ndarray:
    """Stacks ``sequences`` into a ``(len(sequences), max_length)`` array.

    Sequences longer than ``max_length`` are truncated (by default their end is dropped); ``max_length``
    defaults to the longest sequence.
    """
    if padding not in _SIDES or truncating not in _SIDES:
        raise ValueError(f"padding and truncating must be 'pre' or 'post'; got {padding!r}, {truncating!r}.")
    if max_length is not None and max_length < 1:
        raise ValueError(f"max_length must be >= 1, got {max_length}.")
    length = max_length if max_length is not None else max((len(s) for s in sequences), default=0)
    out = np.full((len(sequences), length), value, dtype=dtype)
    for row, sequence in enumerate(sequences):
        kept = list(sequence)[:length] if truncating == "post" else list(sequence)[max(len(sequence) - length, 0):]
        if not kept:
            continue
        if padding == "post":
            out[row, : len(kept)] = kept
        else:
            out[row, length - len(kept):] = kept
    return out
