"""Choose the next token from a batch of logits: greedy, temperature, top-k and nucleus (top-p) sampling.

NumPy only, so the language model and the captioner share one implementation and tests need no framework.

Example:
    >>> import numpy as np
    >>> from textmodels.decoding import sample_next
    >>> logits = np.array([[0.0, 3.0, 1.0], [2.0, 0.0, 0.0]])
    >>> sample_next(logits, temperature=0.0).tolist()
    [1, 0]
    >>> sample_next(logits, temperature=0.7, top_k=2, rng=np.random.default_rng(0)).shape
    (2,)
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np

from textmodels.errors import TextmodelsError


class SamplingError(TextmodelsError, ValueError):
    """An invalid sampling argument or logits array; the message names the argument and its value."""


def validate_sampling_args(temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None) -> None:
    """Raise `SamplingError` unless the arguments describe a valid sampler, so a CLI can fail before loading a model.

    ``temperature`` must be >= 0 (0 means greedy), ``top_k`` None or an int >= 1, ``top_p`` None or in (0, 1].

    Example:
        >>> validate_sampling_args(0.8, top_k=40, top_p=0.95)
        >>> try:
        ...     validate_sampling_args(-1.0)
        ... except ValueError as error:
        ...     print(error)
        temperature must be >= 0 (0 means greedy), got -1.0
    """
    if isinstance(temperature, bool) or not isinstance(temperature, Real) or not np.isfinite(temperature):
        raise SamplingError(f"temperature must be a finite number >= 0, got {temperature!r}")
    if temperature < 0:
        raise SamplingError(f"temperature must be >= 0 (0 means greedy), got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, Integral) or top_k < 1):
        raise SamplingError(f"top_k must be None or an int >= 1, got {top_k!r}")
    if top_p is not None and (
        isinstance(top_p, bool) or not isinstance(top_p, Real) or not 0.0 < top_p <= 1.0
    ):
        raise SamplingError(f"top_p must be None or a number in (0, 1], got {top_p!r}")


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable log-softmax; entries of -inf stay -inf (probability zero).

    Example:
        >>> import numpy as np
        >>> np.exp(log_softmax(np.array([[1000.0, 1000.0]]))).tolist()
        [[0.5, 0.5]]
    """
    logits = np.asarray(logits, dtype=np.float64)
    peak = np.max(logits, axis=axis, keepdims=True)
    # A row that is entirely -inf would give inf - inf = nan; callers reject such rows before this point.
    shifted = logits - np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def ban_tokens(logits: np.ndarray, banned_ids: Iterable[int]) -> np.ndarray:
    """A float64 copy of (B, V) ``logits`` with the columns in ``banned_ids`` set to -inf.

    Raises `SamplingError` for an id outside [0, V) or when a row has no token left.

    Example:
        >>> import numpy as np
        >>> ban_tokens(np.zeros((1, 3)), banned_ids=[0]).tolist()
        [[-inf, 0.0, 0.0]]
    """
    logits = np.array(logits, dtype=np.float64)
    if logits.ndim != 2 or logits.shape[1] == 0:
        raise SamplingError(f"logits must have shape (batch, vocab_size) with vocab_size > 0, got {logits.shape}")
    if np.isnan(logits).any():
        rows = sorted(set(np.nonzero(np.isnan(logits))[0].tolist()))
        raise SamplingError(f"logits contain NaN in batch rows {rows[:10]}")
    banned = sorted({int(token) for token in banned_ids})
    vocab_size = logits.shape[1]
    outside = [token for token in banned if not 0 <= token < vocab_size]
    if outside:
        raise SamplingError(f"banned_ids {outside} are outside the vocabulary [0, {vocab_size})")
    logits[:, banned] = -np.inf
    empty = np.nonzero(~np.isfinite(logits).any(axis=1) | (logits == np.inf).any(axis=1))[0]
    if empty.size:
        raise SamplingError(
            f"batch rows {empty[:10].tolist()} have no finite logit left (all tokens banned, -inf or +inf)"
        )
    return logits


def _keep_top_k(logits: np.ndarray, top_k: int) -> np.ndarray:
    if top_k >= logits.shape[1]:
        return logits
    # A stable sort keeps exactly k columns even when logits tie, and the lowest ids first, as argmax does.
    order = np.argsort(-logits, axis=1, kind="stable")
    filtered = np.full_like(logits, -np.inf)
    kept = order[:, :top_k]
    np.put_along_axis(filtered, kept, np.take_along_axis(logits, kept, axis=1), axis=1)
    return filtered


def _keep_nucleus(log_probs: np.ndarray, top_p: float) -> np.ndarray:
    if top_p >= 1.0:
        return log_probs
    order = np.argsort(-log_probs, axis=1, kind="stable")
    sorted_probs = np.exp(np.take_along_axis(log_probs, order, axis=1))
    mass_before = np.cumsum(sorted_probs, axis=1) - sorted_probs
    # A token is dropped once the more likely tokens already cover top_p; the most likely one always stays.
    drop_sorted = mass_before >= top_p
    drop_sorted[:, 0] = False
    drop = np.zeros_like(drop_sorted)
    np.put_along_axis(drop, order, drop_sorted, axis=1)
    return np.where(drop, -np.inf, log_probs)


def sample_next(
    logits: np.ndarray,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    banned_ids: Iterable[int] = (),
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """One token id per row of (B, V) ``logits`` (or log-probabilities): an int64 array of shape (B,).

    ``temperature`` 0 picks the argmax (``rng`` unused); otherwise tokens are drawn from softmax(logits / T)
    restricted to the ``top_k`` most likely tokens and then to the smallest set holding ``top_p`` of the
    probability, renormalised. ``banned_ids`` (e.g. <pad>, <unk>) get probability zero and are never returned.
    ``rng`` is required when sampling so that results are reproducible.

    Example:
        >>> import numpy as np
        >>> logits = np.log(np.array([[0.1, 0.6, 0.3]]))
        >>> sample_next(logits, temperature=0.0, banned_ids=[1]).tolist()
        [2]
        >>> draws = [sample_next(logits, rng=np.random.default_rng(seed))[0] for seed in range(3)]
        >>> all(0 <= token < 3 for token in draws)
        True
    """
    validate_sampling_args(temperature, top_k, top_p)
    logits = ban_tokens(logits, banned_ids)
    if temperature == 0:
        return np.argmax(logits, axis=1).astype(np.int64)
    if rng is None:
        raise SamplingError("rng (a numpy.random.Generator) is required when temperature > 0")
    scaled = logits / temperature
    if top_k is not None:
        scaled = _keep_top_k(scaled, int(top_k))
    log_probs = log_softmax(scaled)
    if top_p is not None:
        log_probs = _keep_nucleus(log_probs, float(top_p))
    probs = np.exp(log_probs - np.max(log_probs, axis=1, keepdims=True))
    cumulative = np.cumsum(probs, axis=1)
    # 1 - U lies in (0, 1], so the threshold is positive and a zero-probability token can never be the first
    # position whose cumulative mass reaches it.
    thresholds = (1.0 - rng.random((len(probs), 1))) * cumulative[:, -1:]
    chosen = np.sum(cumulative < thresholds, axis=1)
    return np.minimum(chosen, probs.shape[1] - 1).astype(np.int64)
