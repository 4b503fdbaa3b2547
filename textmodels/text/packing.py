"""The one way token ids become a model's input array: ``<bos>``, the words, ``<eos>``, then padding.

The rule, everywhere (classifiers, language-model sentences, captions): a sequence longer than ``max_length``
ids (markers included) loses words from its end, never its ``<bos>`` or ``<eos>``, so a truncated caption or
sentence still teaches the model to stop; every row is post-padded with 0 (``keras.utils.pad_sequences``).

Post-padding is the default on purpose: right-padded masks keep Keras' fused (cuDNN) LSTM/GRU kernels usable,
and without a mask pre-padding would feed the backward direction of a bidirectional layer its padding first.

Example:
    >>> pack_ids([[5, 6, 7, 8], [5]], max_length=4, bos_id=2, eos_id=3).tolist()
    [[2, 5, 6, 3], [2, 5, 3, 0]]
    >>> pack_ids([[5, 6, 7], [8]], max_length=2).tolist()
    [[5, 6], [8, 0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from textmodels.errors import ConfigurationError


def pack_ids(
    sequences: Sequence[Sequence[int]],
    max_length: int | None = None,
    bos_id: int | None = None,
    eos_id: int | None = None,
) -> np.ndarray:
    """``(len(sequences), width)`` int32 ids: ``bos_id`` (when given), the ids (truncated to fit), ``eos_id``
    (when given), then zeros. ``width`` is ``max_length``, or the longest packed sequence (at least 1).

    Example:
        >>> pack_ids([[], [4, 4]], bos_id=2).tolist()
        [[2, 0, 0], [2, 4, 4]]
    """
    markers = (bos_id is not None) + (eos_id is not None)
    if max_length is not None and max_length <= markers:
        raise ConfigurationError(
            f"max_length must leave room for at least one token beside the {markers} <bos>/<eos> marker(s), "
            f"got {max_length}"
        )
    words = None if max_length is None else max_length - markers
    packed = [
        [bos_id] * (bos_id is not None) + [int(token) for token in sequence][:words] + [eos_id] * (eos_id is not None)
        for sequence in sequences
    ]
    width = max_length or max((len(sequence) for sequence in packed), default=1) or 1
    if not packed:
        return np.zeros((0, width), dtype="int32")
    return keras.utils.pad_sequences(packed, maxlen=width, dtype="int32", padding="post", truncating="post", value=0)
