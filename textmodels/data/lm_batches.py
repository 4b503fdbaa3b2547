"""Language-model batches from token ids: truncated-BPTT windows over parallel streams, and shifted sentence pairs.

Example:
    >>> import numpy as np
    >>> x, y = stream_windows(np.arange(1, 12), batch_size=2, num_steps=2)
    >>> x.tolist()  # rows: (window 0, stream 0), (window 0, stream 1), (window 1, stream 0), ...
    [[1, 2], [6, 7], [3, 4], [8, 9]]
    >>> y.tolist()
    [[2, 3], [7, 8], [4, 5], [9, 10]]
"""

from __future__ import annotations

import numpy as np

from textmodels.errors import ConfigurationError, CorpusError


def stream_windows(ids: np.ndarray, batch_size: int, num_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and next-token targets for truncated BPTT, both ``(windows * batch_size, num_steps)``.

    The ids are cut into ``batch_size`` contiguous streams of equal length (the last few tokens that do not
    fill a stream are dropped, as in Zaremba et al.); row ``w * batch_size + s`` is window ``w`` of stream
    ``s``. Feed the rows in order, ``batch_size`` at a time, carrying the recurrent state.

    Raises `CorpusError` when the corpus cannot fill one window of every stream.

    Example:
        >>> x, y = stream_windows(np.arange(10), batch_size=3, num_steps=3)
        >>> x.tolist(), y.tolist()
        ([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    """
    ids = np.asarray(ids, dtype="int32")
    if batch_size < 1 or num_steps < 1:
        raise ConfigurationError(f"batch_size and num_steps must be >= 1, got {batch_size} and {num_steps}")
    needed = batch_size * num_steps + 1
    if ids.ndim != 1 or len(ids) < needed:
        raise CorpusError(
            f"The corpus has {ids.size} tokens, shorter than one window: batch_size x num_steps + 1 = "
            f"{batch_size} x {num_steps} + 1 = {needed} tokens are needed; use a smaller batch size or "
            f"fewer steps, or a longer corpus."
        )
    stream_length = (len(ids) - 1) // batch_size
    windows = stream_length // num_steps
    used = windows * num_steps
    inputs = ids[: batch_size * stream_length].reshape(batch_size, stream_length)[:, :used]
    targets = ids[1 : batch_size * stream_length + 1].reshape(batch_size, stream_length)[:, :used]

    def arrange(streams):
        # (B, W*T) -> (W, B, T) -> (W*B, T): consecutive batches continue each stream.
        return streams.reshape(batch_size, windows, num_steps).transpose(1, 0, 2).reshape(-1, num_steps)

    return arrange(inputs), arrange(targets)


def sentence_pairs(sentences: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (all but the last position) and next-token targets (all but ``<bos>``) of padded sentences.

    Targets are 0 (ignored by the loss) where the input is padding.

    Example:
        >>> x, y = sentence_pairs(np.array([[2, 5, 3, 0]]))
        >>> x.tolist(), y.tolist()
        ([[2, 5, 3]], [[5, 3, 0]])
    """
    if sentences.shape[1] < 2:
        raise CorpusError("Sentences need at least two tokens (<bos> and <eos>) to train on.")
    return sentences[:, :-1], sentences[:, 1:]
