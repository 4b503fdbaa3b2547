"""A token <-> id mapping with reserved ids, saved as JSON and inside any Keras model config that uses it.

Example:
    >>> vocab = Vocabulary.build([["a", "cat"], ["a", "dog"]], min_count=1)
    >>> vocab.encode(["a", "cow"], add_eos=True)
    [4, 1, 3]
    >>> vocab.decode([4, 5, 3])
    ['a', 'cat']
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import keras

from textmodels.errors import ConfigurationError, DataError

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
RESERVED = (PAD, UNK, BOS, EOS)
_FORMAT = "textmodels.Vocabulary"


@keras.saving.register_keras_serializable(package="textmodels")
class Vocabulary:
    """Maps tokens to ids: ``<pad>`` = 0, ``<unk>`` = 1, ``<bos>`` = 2, ``<eos>`` = 3, then the tokens.

    Build one with `Vocabulary.build`; a vocabulary is immutable afterwards.

    Example:
        >>> vocab = Vocabulary(["<pad>", "<unk>", "<bos>", "<eos>", "hello"])
        >>> vocab["hello"], vocab["unseen"], len(vocab)
        (4, 1, 5)
    """

    pad_id, unk_id, bos_id, eos_id = 0, 1, 2, 3

    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if tuple(tokens[: len(RESERVED)]) != RESERVED:
            raise ValueError(f"A vocabulary must start with the reserved tokens {list(RESERVED)}; got {tokens[:4]}.")
        index = {}
        for position, token in enumerate(tokens):
            if not isinstance(token, str):
                raise TypeError(f"Vocabulary token at position {position} is {type(token).__name__}, not str.")
            if token in index:
                raise ValueError(f"Duplicate vocabulary token {token!r} at positions {index[token]} and {position}.")
            index[token] = position
        self._tokens = tokens
        self._index = index

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Sequence[str]] | Counter,
        min_count: int = 1,
        max_size: int | None = None,
    ) -> Vocabulary:
        """Keeps tokens seen at least ``min_count`` times, most frequent first (ties alphabetical).

        ``max_size`` caps the total size, reserved tokens included. ``token_lists`` is an iterable of token
        sequences or a ready `collections.Counter`.
        """
        if min_count < 1:
            raise ConfigurationError(f"min_count must be >= 1, got {min_count}.")
        if max_size is not None and max_size <= len(RESERVED):
            raise ConfigurationError(f"max_size must exceed the {len(RESERVED)} reserved tokens, got {max_size}.")
        counts = token_lists if isinstance(token_lists, Counter) else Counter(
            token for tokens in token_lists for token in tokens
        )
        kept = sorted(
            (token for token, count in counts.items() if count >= min_count and token not in RESERVED),
            key=lambda token: (-counts[token], token),
        )
        if max_size is not None:
            kept = kept[: max_size - len(RESERVED)]
        return cls([*RESERVED, *kept])

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    def __getitem__(self, token: str) -> int:
        return self._index.get(token, self.unk_id)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self._tokens == other._tokens

    @property
    def tokens(self) -> list[str]:
        """All tokens in id order (a copy)."""
        return list(self._tokens)

    def token(self, token_id: int) -> str:
        """The token of ``token_id``; raises `IndexError` naming the id when out of range."""
        if not 0 <= int(token_id) < len(self._tokens):
            raise IndexError(f"Token id {token_id} is outside this vocabulary of size {len(self._tokens)}.")
        return self._tokens[int(token_id)]

    def encode(self, tokens: Sequence[str], add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """Token ids; unknown tokens become ``<unk>``."""
        ids = [self._index.get(token, self.unk_id) for token in tokens]
        return [self.bos_id] * add_bos + ids + [self.eos_id] * add_eos

    def decode(self, ids: Iterable[int], skip_special: bool = True, stop_at_eos: bool = True) -> list[str]:
        """Tokens for ``ids``; by default stops at the first ``<eos>`` and drops ``<pad>``/``<bos>``."""
        tokens = []
        for token_id in ids:
            token_id = int(token_id)
            if stop_at_eos and token_id == self.eos_id:
                break
            if skip_special and token_id in (self.pad_id, self.bos_id, self.eos_id):
                continue
            tokens.append(self.token(token_id))
        return tokens

    def get_config(self) -> dict:
        return {"tokens": list(self._tokens)}

    @classmethod
    def from_config(cls, config: dict) -> Vocabulary:
        return cls(config["tokens"])

    def save(self, path: str | Path) -> None:
        """Writes the vocabulary as JSON, atomically (`textmodels.atomic_files.write_text_atomically`)."""
        from textmodels.atomic_files import write_text_atomically

        write_text_atomically(path, json.dumps({"format": _FORMAT, "version": 1, "tokens": self._tokens},
                                               ensure_ascii=False))

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        """Reads a vocabulary written by `save`; raises `ValueError` naming the file if it is not one."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise DataError(f"Cannot read vocabulary file {path}: {error}") from error
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise DataError(f"{path} is not a textmodels vocabulary file.")
        return cls(data["tokens"])
