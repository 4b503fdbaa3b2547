"""A NumPy character RNN with hand-written backpropagation through time, checked against Keras autodiff.

In the spirit of Karpathy's min-char-rnn: one file, readable in one sitting, every gradient line saying
which derivative it computes. The model is

    h_t = tanh(U x_t + W h_{t-1} + b)        x_t is the one-hot vector of token id inputs[t]
    y_t = softmax(V h_t + c)
    L   = sum_t -log y_t[targets[t]]

with U: (hidden, vocab), W: (hidden, hidden), V: (vocab, hidden), b: (hidden,), c: (vocab,), all float64.

`textmodels.reference.gradient_diagnostics` checks these gradients against Keras autodiff; ``python -m
textmodels.reference --check`` prints that comparison.

Example:
    >>> params = RNNParams.random(vocab_size=5, hidden_size=4, seed=0)
    >>> loss, cache = forward(params, [0, 1, 2], [1, 2, 3])
    >>> grads = backward(params, cache)
    >>> sorted(grads) == ["U", "V", "W", "b", "c"] and grads["W"].shape == (4, 4)
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from textmodels.errors import TextmodelsError

PARAM_NAMES = ("U", "W", "V", "b", "c")


class ReferenceInputError(TextmodelsError, ValueError):
    """Bad arguments to the reference RNN: the message names the offending argument and value."""


@dataclass
class RNNParams:
    """The five float64 parameter arrays of the reference RNN.

    Example:
        >>> params = RNNParams.random(vocab_size=3, hidden_size=2, seed=0)
        >>> params.U.shape, params.W.shape, params.V.shape, params.b.shape, params.c.shape
        ((2, 3), (2, 2), (3, 2), (2,), (3,))
    """

    U: np.ndarray
    W: np.ndarray
    V: np.ndarray
    b: np.ndarray
    c: np.ndarray

    @classmethod
    def random(cls, vocab_size: int, hidden_size: int, seed: int = 0, scale: float = 0.1) -> RNNParams:
        """Small Gaussian weights (stddev ``scale``) and zero biases, reproducible from ``seed``.

        Example:
            >>> RNNParams.random(4, 3, seed=1).W.dtype
            dtype('float64')
        """
        for name, value in (("vocab_size", vocab_size), ("hidden_size", hidden_size)):
            if int(value) < 1:
                raise ReferenceInputError(f"{name} must be a positive integer, got {value!r}")
        rng = np.random.default_rng(seed)
        return cls(
            U=rng.normal(0.0, scale, (hidden_size, vocab_size)),
            W=rng.normal(0.0, scale, (hidden_size, hidden_size)),
            V=rng.normal(0.0, scale, (vocab_size, hidden_size)),
            b=np.zeros(hidden_size),
            c=np.zeros(vocab_size),
        )

    @property
    def vocab_size(self) -> int:
        """Number of distinct token ids the network reads and predicts."""
        return self.U.shape[1]

    @property
    def hidden_size(self) -> int:
        """Number of hidden units."""
        return self.W.shape[0]

    def as_dict(self) -> dict[str, np.ndarray]:
        """The arrays keyed by name ("U", "W", "V", "b", "c"), the same keys `backward` uses for gradients.

        Example:
            >>> list(RNNParams.random(2, 2).as_dict())
            ['U', 'W', 'V', 'b', 'c']
        """
        return {name: getattr(self, name) for name in PARAM_NAMES}


@dataclass
class ForwardCache:
    """What `forward` keeps for `backward`: inputs, targets, every hidden state and every softmax output.

    ``hidden_states[0]`` is h0 and ``hidden_states[t + 1]`` the state after reading ``inputs[t]``.

    Example:
        >>> _, cache = forward(RNNParams.random(3, 2), [0, 1], [1, 2])
        >>> cache.hidden_states.shape, cache.probabilities.shape
        ((3, 2), (2, 3))
    """

    inputs: np.ndarray
    targets: np.ndarray
    hidden_states: np.ndarray
    probabilities: np.ndarray

    @property
    def last_hidden(self) -> np.ndarray:
        """The state after the last input, to carry into the next chunk of a long text."""
        return self.hidden_states[-1]


def check_token_ids(values: Sequence[int], name: str, vocab_size: int) -> np.ndarray:
    """``values`` as a 1-D integer array of ids in [0, ``vocab_size``); `ReferenceInputError` naming ``name`` and
    the first bad position otherwise.

    Example:
        >>> check_token_ids([0, 2], "inputs", vocab_size=3).tolist()
        [0, 2]
    """
    ids = np.asarray(values)
    if ids.ndim != 1 or ids.size == 0:
        raise ReferenceInputError(f"{name} must be a non-empty 1-D sequence of token ids, got shape {ids.shape}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise ReferenceInputError(f"{name} must hold integer token ids, got dtype {ids.dtype}")
    bad = np.flatnonzero((ids < 0) | (ids >= vocab_size))
    if bad.size:
        position = int(bad[0])
        raise ReferenceInputError(
            f"{name}[{position}] = {int(ids[position])} is outside the vocabulary [0, {vocab_size})"
        )
    return ids


def forward(
    params: RNNParams, inputs: Sequence[int], targets: Sequence[int], h0: np.ndarray | None = None
) -> tuple[float, ForwardCache]:
    """Run the RNN over ``inputs`` from state ``h0`` (zeros when None); return the summed cross-entropy and a cache.

    Example:
        >>> params = RNNParams.random(vocab_size=4, hidden_size=3)
        >>> loss, cache = forward(params, [0, 1, 2], [1, 2, 3])
        >>> bool(abs(loss - 3 * np.log(4)) < 0.1)  # near-uniform predictions at initialisation
        True
    """
    inputs = check_token_ids(inputs, "inputs", params.vocab_size)
    targets = check_token_ids(targets, "targets", params.vocab_size)
    if len(inputs) != len(targets):
        raise ReferenceInputError(f"inputs has {len(inputs)} ids but targets has {len(targets)}; they must match")
    h = np.zeros(params.hidden_size) if h0 is None else np.asarray(h0, dtype=np.float64)
    if h.shape != (params.hidden_size,):
        raise ReferenceInputError(f"h0 must have shape ({params.hidden_size},), got {h.shape}")

    hidden_states = [h]
    probabilities = []
    loss = 0.0
    for x_id, target in zip(inputs, targets):
        # U @ one_hot(x_id) is just column x_id of U.
        h = np.tanh(params.U[:, x_id] + params.W @ h + params.b)
        logits = params.V @ h + params.c
        # Subtracting the max leaves softmax unchanged but keeps exp() from overflowing.
        exp = np.exp(logits - logits.max())
        p = exp / exp.sum()
        loss -= np.log(p[target])
        hidden_states.append(h)
        probabilities.append(p)
    cache = ForwardCache(inputs, targets, np.array(hidden_states), np.array(probabilities))
    return float(loss), cache


def backward(params: RNNParams, cache: ForwardCache) -> dict[str, np.ndarray]:
    """Backpropagation through time: the gradient of `forward`'s loss for every parameter, keyed like `as_dict`.

    Example:
        >>> params = RNNParams.random(vocab_size=3, hidden_size=2)
        >>> grads = backward(params, forward(params, [0, 1], [1, 2])[1])
        >>> all(grads[name].shape == array.shape for name, array in params.as_dict().items())
        True
    """
    grads = {name: np.zeros_like(array) for name, array in params.as_dict().items()}
    dh_next = np.zeros(params.hidden_size)  # dL/dh_t arriving from step t+1 (nothing after the last step)
    for t in reversed(range(len(cache.inputs))):
        h, h_prev = cache.hidden_states[t + 1], cache.hidden_states[t]
        dy = cache.probabilities[t].copy()
        dy[cache.targets[t]] -= 1.0  # dL/dlogits_t: softmax + cross-entropy gives p - one_hot(target)
        grads["V"] += np.outer(dy, h)  # dL/dV: each step's logit error times that step's state
        grads["c"] += dy  # dL/dc: logit errors summed over time
        dh = params.V.T @ dy + dh_next  # dL/dh_t: from this step's output plus from the future via W
        dh_raw = (1.0 - h * h) * dh  # dL/d(pre-activation): tanh'(a) = 1 - tanh(a)^2
        grads["b"] += dh_raw  # dL/db: pre-activation errors summed over time
        grads["U"][:, cache.inputs[t]] += dh_raw  # dL/dU: outer(dh_raw, one_hot) only fills column x_t
        grads["W"] += np.outer(dh_raw, h_prev)  # dL/dW: each step's pre-activation error times the previous state
        dh_next = params.W.T @ dh_raw  # dL/dh_{t-1} through the recurrence, handed to the previous step
    return grads


def clip_by_global_norm(grads: Mapping, c: float) -> tuple[dict, float]:
    """Rescale all gradients together to norm ``c`` when their global norm is >= ``c``; return (clipped, norm).

    The global norm is sqrt of the sum of squares over every array, so clipping keeps the update's
    direction and only shortens it. Zero gradients come back unchanged.

    Example:
        >>> clipped, norm = clip_by_global_norm({"a": np.array([3.0]), "b": np.array([4.0])}, 1.0)
        >>> norm, round(clipped["a"].item(), 12), round(clipped["b"].item(), 12)
        (5.0, 0.6, 0.8)
    """
    if not c > 0:
        raise ReferenceInputError(f"clip norm c must be positive, got {c!r}")
    norm = float(np.sqrt(sum(np.sum(np.square(g)) for g in grads.values())))
    scale = c / norm if norm >= c else 1.0
    return {name: np.asarray(g) * scale for name, g in grads.items()}, norm


@dataclass
class TrainResult:
    """The trained parameters, the loss per character at every step, and the character vocabulary.

    Example:
        >>> result = train("abab" * 5, hidden_size=4, seq_length=4, steps=3)
        >>> len(result.losses), result.chars
        (3, ['a', 'b'])
    """

    params: RNNParams
    losses: list[float]
    chars: list[str]


def train(
    text: str,
    hidden_size: int = 32,
    seq_length: int = 16,
    learning_rate: float = 0.1,
    steps: int = 300,
    clip: float = 5.0,
    seed: int = 0,
) -> TrainResult:
    """Plain SGD with clipped gradients on consecutive ``seq_length`` chunks of ``text``, cycling through it.

    The hidden state carries over between chunks (truncated BPTT) and resets at each wrap-around.

    Example:
        >>> result = train("hello " * 20, hidden_size=16, steps=150, learning_rate=0.2)
        >>> result.losses[-1] < result.losses[0]
        True
    """
    if len(text) < 2:
        raise ReferenceInputError(f"text must have at least 2 characters to predict one from another, got {text!r}")
    if seq_length < 1 or steps < 1:
        raise ReferenceInputError(f"seq_length and steps must be positive, got {seq_length} and {steps}")
    chars = sorted(set(text))
    index = {ch: i for i, ch in enumerate(chars)}
    ids = np.array([index[ch] for ch in text])
    params = RNNParams.random(len(chars), hidden_size, seed=seed)
    losses = []
    position, h = 0, None
    for _ in range(steps):
        if position + 1 >= len(ids):
            position, h = 0, None
        end = min(position + seq_length, len(ids) - 1)
        loss, cache = forward(params, ids[position:end], ids[position + 1 : end + 1], h)
        grads, _ = clip_by_global_norm(backward(params, cache), clip)
        params = RNNParams(**{name: array - learning_rate * grads[name] for name, array in params.as_dict().items()})
        losses.append(loss / (end - position))
        position, h = end, cache.last_hidden
    return TrainResult(params, losses, chars)


def sample(params: RNNParams, first_id: int, length: int, h0: np.ndarray | None = None, seed: int = 0) -> list[int]:
    """Draw ``length`` token ids from the model, feeding each one back in, starting after ``first_id``.

    Example:
        >>> ids = sample(RNNParams.random(vocab_size=5, hidden_size=3), first_id=0, length=4)
        >>> len(ids), all(0 <= i < 5 for i in ids)
        (4, True)
    """
    check_token_ids([first_id], "first_id", params.vocab_size)
    rng = np.random.default_rng(seed)
    h = np.zeros(params.hidden_size) if h0 is None else np.asarray(h0, dtype=np.float64)
    ids, x_id = [], first_id
    for _ in range(length):
        h = np.tanh(params.U[:, x_id] + params.W @ h + params.b)
        logits = params.V @ h + params.c
        p = np.exp(logits - logits.max())
        x_id = int(rng.choice(params.vocab_size, p=p / p.sum()))
        ids.append(x_id)
    return ids
