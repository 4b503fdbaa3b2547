"""Decode token sequences from any step-wise model: greedy, beam search and sampling, batched over rows.

The language models and the captioner both decode here. The model is abstracted as a step function
``step_fn(tokens, state) -> (log_probs, new_state)``: ``tokens`` is an (N,) int array of the previous token of
each row (``bos_id`` at the first step: ``<bos>`` for a caption, the last token of a language model's prime),
``log_probs`` an (N, V) array of next-token log-probabilities, and ``state`` any nesting of lists, tuples,
dicts and arrays with the rows on axis 0 (e.g. the LSTM's ``(h, c)`` plus the image vector). The caller builds
the initial state (from the images, or by reading the prime); beam search tiles it to ``batch_size *
beam_size`` rows and reorders it with `reorder_state` after every step, so the model never re-reads the
prefix. Returned token lists contain neither the start token nor <eos>. ``eos_id=None`` never stops a row
early: every row then runs ``max_length`` steps (character streams have no end marker).

Example:
    >>> import numpy as np
    >>> # Token 0 is <eos>, 3 is <bos>; row i holds the next-token probabilities after token i.
    >>> table = np.log(np.array([[1.0, 1e-9, 1e-9, 1e-9], [0.1, 0.2, 0.6, 0.1],
    ...                          [0.8, 0.1, 0.05, 0.05], [0.1, 0.7, 0.1, 0.1]]))
    >>> def step_fn(tokens, state):
    ...     return table[tokens], state
    >>> greedy_search(step_fn, (), batch_size=2, bos_id=3, eos_id=0, max_length=5)
    [[1, 2], [1, 2]]
    >>> [hyp.tokens for hyp in beam_search(step_fn, (), 1, bos_id=3, eos_id=0, max_length=5)[0]]
    [[1, 2]]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from textmodels.decoding.samplers import sample_next, validate_sampling_args
from textmodels.errors import TextmodelsError

StepFn = Callable[[np.ndarray, Any], tuple[np.ndarray, Any]]

# Beam search's default length normalisation, score = log p / steps ** 0.7 (between raw log-probability, which
# favours short generic sequences, and the per-token mean): the one default every model and command takes.
DEFAULT_LENGTH_PENALTY = 0.7


class SearchError(TextmodelsError, ValueError):
    """Invalid search arguments or a step function that returned arrays of the wrong shape."""


@dataclass(frozen=True)
class Hypothesis:
    """One decoded sequence: its tokens (no <bos>/<eos>), total log-probability and length-normalised score.

    Example:
        >>> Hypothesis(tokens=[4, 7], log_prob=-1.5, score=-0.5).tokens
        [4, 7]
    """

    tokens: list[int]
    log_prob: float
    score: float


def reorder_state(state: Any, indices: np.ndarray) -> Any:
    """Pick rows ``indices`` (axis 0) of every array in a nested list/tuple/dict ``state``; None stays None.

    NumPy arrays stay NumPy; a backend tensor (a compiled step's state, see `compile_step`) is picked with
    ``keras.ops.take``, on its own device; an object with a ``reorder_rows(indices)`` method reorders itself
    (a compiled step can then pick the rows inside its own call: one device call per token instead of three).

    Example:
        >>> import numpy as np
        >>> hidden, cell = reorder_state((np.array([10, 20]), np.array([[1], [2]])), np.array([1, 1, 0]))
        >>> hidden.tolist(), cell.tolist()
        ([20, 20, 10], [[2], [2], [1]])
    """
    if state is None:
        return None
    if hasattr(state, "reorder_rows"):
        return state.reorder_rows(indices)
    if isinstance(state, dict):
        return {key: reorder_state(value, indices) for key, value in state.items()}
    if isinstance(state, tuple) and hasattr(state, "_fields"):
        return type(state)(*(reorder_state(value, indices) for value in state))
    if isinstance(state, (list, tuple)):
        return type(state)(reorder_state(value, indices) for value in state)
    if isinstance(state, np.ndarray):
        return np.take(state, indices, axis=0)
    from keras import ops  # only for backend tensors: searches over NumPy models never import Keras

    return ops.take(state, ops.convert_to_tensor(indices, "int32"), axis=0)


def greedy_search(step_fn: StepFn, initial_state: Any, batch_size: int, bos_id: int, eos_id: int | None,
                  max_length: int, *, banned_ids: Iterable[int] = (), min_length: int = 0,
                  eos_at_max_length: bool = False) -> list[list[int]]:
    """The most likely next token at every step, for each of ``batch_size`` rows, up to ``max_length`` tokens
    (``min_length`` and ``eos_at_max_length`` as in `beam_search`).

    Example:
        >>> import numpy as np
        >>> table = np.log(np.array([[0.9, 0.05, 0.05], [0.5, 0.1, 0.4], [0.1, 0.8, 0.1]]))
        >>> greedy_search(lambda tokens, state: (table[tokens], state), None, 2, bos_id=2, eos_id=0,
        ...               max_length=4)
        [[1], [1]]
    """
    return sample_search(step_fn, initial_state, batch_size, bos_id, eos_id, max_length, temperature=0.0,
                         banned_ids=banned_ids, min_length=min_length, eos_at_max_length=eos_at_max_length)


def sample_search(step_fn: StepFn, initial_state: Any, batch_size: int, bos_id: int, eos_id: int | None,
                  max_length: int, *, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                  banned_ids: Iterable[int] = (), rng: np.random.Generator | None = None,
                  min_length: int = 0, eos_at_max_length: bool = False) -> list[list[int]]:
    """Draw each next token with `textmodels.decoding.sample_next` (temperature 0 is greedy); <eos> cannot end a
    row before it holds ``min_length`` tokens. ``eos_at_max_length``: the last step emits <eos>, so a row holds
    at most ``max_length - 1`` tokens.

    Example:
        >>> import numpy as np
        >>> table = np.log(np.array([[0.9, 0.05, 0.05], [0.5, 0.1, 0.4], [0.1, 0.8, 0.1]]))
        >>> captions = sample_search(lambda tokens, state: (table[tokens], state), None, 3, bos_id=2, eos_id=0,
        ...                          max_length=6, temperature=0.8, rng=np.random.default_rng(0))
        >>> len(captions), all(0 not in caption and len(caption) <= 6 for caption in captions)
        (3, True)
    """
    validate_sampling_args(temperature, top_k, top_p)
    if temperature > 0 and rng is None:
        raise SearchError("sample_search needs rng (a numpy.random.Generator) when temperature > 0")
    _check_min_length(min_length, max_length)
    banned = tuple(banned_ids)
    too_short = tuple(token for token in (*banned, eos_id) if token is not None)
    ends = eos_at_max_length and eos_id is not None

    def choose(log_probs: np.ndarray, step: int) -> np.ndarray:
        if ends and step == max_length - 1:
            return np.full(len(log_probs), eos_id)
        return sample_next(log_probs, temperature=temperature, top_k=top_k, top_p=top_p,
                           banned_ids=too_short if step < min_length else banned, rng=rng)

    return _decode_token_by_token(step_fn, initial_state, batch_size, bos_id, eos_id, max_length, choose=choose)


def beam_search(step_fn: StepFn, initial_state: Any, batch_size: int, bos_id: int, eos_id: int | None,
                max_length: int, beam_size: int = 3, length_penalty: float = DEFAULT_LENGTH_PENALTY,
                block_ngram: int = 0, banned_ids: Iterable[int] = (), num_return: int = 1,
                min_length: int = 0, eos_at_max_length: bool = False) -> list[list[Hypothesis]]:
    """Beam search: for each of ``batch_size`` rows, the ``num_return`` best hypotheses, best first.

    A hypothesis' score is ``log_prob / length ** length_penalty`` where length counts decoding steps (its
    tokens plus the <eos>, or ``max_length`` when it never ended); ``length_penalty=0`` ranks by raw
    log-probability. ``log_prob`` is the model's own log-probability of the tokens and the <eos>.
    A hypothesis that emits <eos> among the ``beam_size`` best candidates leaves the beam for a finished
    list; a row stops once ``beam_size`` hypotheses have finished, or earlier when ``num_return`` have
    finished and no live beam can still beat them, or at ``max_length`` (live beams then count as hypotheses).
    With ``beam_size=1`` this is exactly `greedy_search`. ``block_ngram=n`` forbids any n-gram from occurring
    twice in a hypothesis; ``banned_ids`` are never emitted; <eos> is not emitted before ``min_length`` tokens.
    ``eos_at_max_length``: the last step may only emit <eos>, so every hypothesis ends, with at most
    ``max_length - 1`` tokens (a caption's word limit), its log-probability including that <eos>.

    Example:
        >>> import numpy as np
        >>> # From <bos>=3: "1" is likelier than "2", but only "2" is followed by a near-certain <eos>=0.
        >>> table = np.log(np.array([[1.0, 1e-9, 1e-9, 1e-9], [0.1, 0.3, 0.3, 0.3],
        ...                          [0.98, 0.01, 0.005, 0.005], [0.01, 0.5, 0.45, 0.04]]))
        >>> step_fn = lambda tokens, state: (table[tokens], state)
        >>> greedy_search(step_fn, None, 1, bos_id=3, eos_id=0, max_length=3)
        [[1, 1, 1]]
        >>> best = beam_search(step_fn, None, 1, bos_id=3, eos_id=0, max_length=3, beam_size=2)[0][0]
        >>> best.tokens, round(best.log_prob, 4)
        ([2], -0.8187)
    """
    _check_common(batch_size, bos_id, eos_id, max_length)
    if isinstance(beam_size, bool) or not isinstance(beam_size, (int, np.integer)) or beam_size < 1:
        raise SearchError(f"beam_size must be an int >= 1, got {beam_size!r}")
    if not isinstance(num_return, (int, np.integer)) or not 1 <= num_return <= beam_size:
        raise SearchError(f"num_return must be an int in [1, beam_size={beam_size}], got {num_return!r}")
    if not math.isfinite(length_penalty) or length_penalty < 0:
        raise SearchError(f"length_penalty must be a finite number >= 0, got {length_penalty!r}")
    if isinstance(block_ngram, bool) or not isinstance(block_ngram, (int, np.integer)) or block_ngram < 0:
        raise SearchError(f"block_ngram must be an int >= 0 (0 = off), got {block_ngram!r}")
    _check_min_length(min_length, max_length)
    banned = sorted({int(token) for token in banned_ids})

    def score_of(log_prob: float, steps: int) -> float:
        return log_prob / steps**length_penalty

    rows = batch_size * beam_size
    state = reorder_state(initial_state, np.repeat(np.arange(batch_size), beam_size))
    tokens = np.full(rows, bos_id, dtype=np.int64)
    histories = np.zeros((batch_size, beam_size, 0), dtype=np.int64)
    # Only the first beam of each row is live at the start, so the first step does not pick K copies of a token.
    beam_log_probs = np.full((batch_size, beam_size), -np.inf)
    beam_log_probs[:, 0] = 0.0
    finished: list[list[Hypothesis]] = [[] for _ in range(batch_size)]
    done = np.zeros(batch_size, dtype=bool)

    for step in range(max_length):
        log_probs, state = step_fn(tokens, state)
        log_probs = _checked_log_probs(log_probs, rows, eos_id, banned)
        vocab_size = log_probs.shape[1]
        log_probs = log_probs.reshape(batch_size, beam_size, vocab_size)
        if banned:
            log_probs[:, :, banned] = -np.inf
        if step < min_length and eos_id is not None:
            log_probs[:, :, eos_id] = -np.inf
        if eos_at_max_length and eos_id is not None and step == max_length - 1:
            ending = log_probs[:, :, eos_id].copy()
            log_probs[:] = -np.inf
            log_probs[:, :, eos_id] = ending
        if block_ngram:
            _block_repeated_ngrams(log_probs, histories, block_ngram)
        candidates = (beam_log_probs[:, :, None] + log_probs).reshape(batch_size, -1)
        # 2K candidates always leave K that do not end, however many of the best ones are <eos>.
        num_candidates = min(2 * beam_size, candidates.shape[1])
        ranked = _top_candidates(candidates, num_candidates)

        source_beams = np.zeros((batch_size, beam_size), dtype=np.int64)
        # Beams left unfilled are dead (log-prob -inf); they are fed <eos> (or 0), which they never leave.
        next_tokens = np.full((batch_size, beam_size), 0 if eos_id is None else eos_id, dtype=np.int64)
        next_log_probs = np.full((batch_size, beam_size), -np.inf)
        for item in range(batch_size):
            if done[item]:
                continue
            filled = 0
            for rank, flat in enumerate(ranked[item]):
                beam, token = divmod(int(flat), vocab_size)
                log_prob = float(candidates[item, flat])
                if log_prob == -np.inf:
                    break
                if token == eos_id:
                    if rank < beam_size:
                        finished[item].append(
                            Hypothesis(histories[item, beam].tolist(), log_prob, score_of(log_prob, step + 1))
                        )
                    continue
                source_beams[item, filled] = beam
                next_tokens[item, filled] = token
                next_log_probs[item, filled] = log_prob
                filled += 1
                if filled == beam_size:
                    break
            done[item] = _row_is_done(
                finished[item], next_log_probs[item], beam_size, num_return, score_of(1.0, max_length)
            )
        next_log_probs[done] = -np.inf

        if step + 1 == max_length or done.all():
            break
        flat_sources = (np.arange(batch_size)[:, None] * beam_size + source_beams).reshape(-1)
        state = reorder_state(state, flat_sources)
        histories = np.concatenate(
            [np.take_along_axis(histories, source_beams[:, :, None], axis=1), next_tokens[:, :, None]], axis=2
        )
        beam_log_probs = next_log_probs
        tokens = next_tokens.reshape(-1)

    if not done.all():
        final_histories = np.concatenate(
            [np.take_along_axis(histories, source_beams[:, :, None], axis=1), next_tokens[:, :, None]], axis=2
        )
        for item in np.nonzero(~done)[0]:
            for beam in range(beam_size):
                log_prob = float(next_log_probs[item, beam])
                if log_prob > -np.inf:
                    finished[item].append(
                        Hypothesis(final_histories[item, beam].tolist(), log_prob, score_of(log_prob, max_length))
                    )
    return [sorted(hyps, key=lambda hyp: -hyp.score)[:num_return] for hyps in finished]


def _top_candidates(candidates: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` largest entries of each row, best first, equal values in index order: exactly the first
    ``count`` of a stable descending sort. A partial partition finds each row's ``count``-th largest value; only the
    entries at or above it are sorted (a full stable sort of K x V candidates took most of a search's time)."""
    if 4 * count >= candidates.shape[1]:
        return np.argsort(-candidates, axis=1, kind="stable")[:, :count]
    thresholds = np.partition(candidates, candidates.shape[1] - count, axis=1)[:, -count]
    ranked = np.empty((len(candidates), count), dtype=np.int64)
    for row, threshold in enumerate(thresholds):
        chosen = np.flatnonzero(candidates[row] >= threshold)  # ties at the threshold all kept, in index order
        ranked[row] = chosen[np.argsort(-candidates[row, chosen], kind="stable")[:count]]
    return ranked


def _row_is_done(
    finished: Sequence[Hypothesis], live_log_probs: np.ndarray, beam_size: int, num_return: int, max_scale: float
) -> bool:
    if len(finished) >= beam_size:
        return True
    if len(finished) < num_return:
        return False
    kth_best = sorted(hyp.score for hyp in finished)[-num_return]
    best_live = float(np.max(live_log_probs))
    # Log-probabilities only fall as a beam grows, while a longer length divides the (negative) score by more,
    # so the best a live beam can ever reach is its current log-prob normalised at max_length (or unnormalised
    # when length_penalty is 0, i.e. max_scale is 1).
    return best_live == -np.inf or max(best_live, best_live * max_scale) <= kth_best


def _block_repeated_ngrams(log_probs: np.ndarray, histories: np.ndarray, n: int) -> None:
    length = histories.shape[2]
    if length < n - 1:
        return
    for item, beam in np.ndindex(histories.shape[:2]):
        history = histories[item, beam].tolist()
        prefix = tuple(history[length - n + 1:]) if n > 1 else ()
        for start in range(length - n + 1):
            if tuple(history[start:start + n - 1]) == prefix:
                log_probs[item, beam, history[start + n - 1]] = -np.inf


def _decode_token_by_token(step_fn: StepFn, initial_state: Any, batch_size: int, bos_id: int, eos_id: int | None,
                           max_length: int, choose: Callable[[np.ndarray, int], np.ndarray]) -> list[list[int]]:
    _check_common(batch_size, bos_id, eos_id, max_length)
    tokens = np.full(batch_size, bos_id, dtype=np.int64)
    state = initial_state
    outputs: list[list[int]] = [[] for _ in range(batch_size)]
    finished = np.zeros(batch_size, dtype=bool)
    for step in range(max_length):
        log_probs, state = step_fn(tokens, state)
        tokens = choose(_checked_log_probs(log_probs, batch_size, eos_id, ()), step)
        for row in np.nonzero(~finished)[0]:
            if eos_id is not None and tokens[row] == eos_id:
                finished[row] = True
            else:
                outputs[row].append(int(tokens[row]))
        if finished.all():
            break
    return outputs


def _check_common(batch_size: int, bos_id: int, eos_id: int | None, max_length: int) -> None:
    checked = [("batch_size", batch_size, 1), ("max_length", max_length, 1), ("bos_id", bos_id, 0)]
    if eos_id is not None:
        checked.append(("eos_id", eos_id, 0))
    for name, value, minimum in checked:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise SearchError(f"{name} must be an int >= {minimum}, got {value!r}")


def _check_min_length(min_length: int, max_length: int) -> None:
    if isinstance(min_length, bool) or not isinstance(min_length, (int, np.integer)) or min_length < 0:
        raise SearchError(f"min_length must be an int >= 0, got {min_length!r}")
    if min_length >= max_length:
        raise SearchError(f"min_length ({min_length}) must be below max_length ({max_length}), which counts the "
                          "final <eos> step")


def _checked_log_probs(log_probs: Any, rows: int, eos_id: int | None, banned: Sequence[int]) -> np.ndarray:
    log_probs = np.array(log_probs, dtype=np.float64)
    if log_probs.ndim != 2 or log_probs.shape[0] != rows:
        raise SearchError(f"step_fn must return log_probs of shape ({rows}, vocab_size), got {log_probs.shape}")
    vocab_size = log_probs.shape[1]
    outside = [token for token in (eos_id, *banned) if token is not None and token >= vocab_size]
    if outside:
        raise SearchError(f"token ids {outside} (eos_id / banned_ids) are outside the vocabulary of {vocab_size}")
    if np.isnan(log_probs).any():
        raise SearchError(f"step_fn returned NaN log-probabilities in rows {np.nonzero(np.isnan(log_probs))[0][:10]}")
    return log_probs
