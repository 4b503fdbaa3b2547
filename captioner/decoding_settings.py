"""How a captioner turns image features into a caption, stored in the model: `DecodingSettings`.

Beam width, length penalty (score = log p / steps ** penalty), longest and shortest caption in words and n-gram
blocking travel inside the ``.keras`` file (`captioner.model.CaptionModel`'s config), so every path that captions
(``Captioner.caption``, ``captioner caption``, ``evaluate``, ``gallery``, ``serve``, the exported SavedModel)
decodes the way ``tune_decoding`` chose on the validation split, unless an argument or flag overrides a setting.
A model saved before the settings existed loads with the defaults below, which are what every path used then.
Keras-free, so the command line can validate a flag before TensorFlow loads.

Example:
    >>> settings = DecodingSettings(beam_size=5, length_penalty=0.5)
    >>> settings.replace(beam_size=None, block_ngram=3).get_config()
    {'beam_size': 5, 'length_penalty': 0.5, 'max_length': None, 'min_length': 0, 'block_ngram': 3}
    >>> try:
    ...     settings.replace(beam_size=0)
    ... except DecodingSettingsError as error:
    ...     print(error)
    decoding setting beam_size must be an integer from 1 to 100, got 0
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real

from captioner.errors import DecodingSettingsError
from textmodels.decoding.search import DEFAULT_LENGTH_PENALTY

# The defaults: what every captioning path used before the settings were stored.
DEFAULT_BEAM_SIZE = 3
DEFAULT_MIN_LENGTH = 0  # words; 0: an empty caption is allowed (the search bans nothing)
DEFAULT_BLOCK_NGRAM = 0  # 0: off

# The ranges a setting may take. Wider beams than this only cost time on a captioner (quality peaks by 5-10),
# penalties above 5 rank by length alone, and no caption dataset has sentences of 200 words.
MAX_BEAM_SIZE = 100
MAX_LENGTH_PENALTY = 5.0
MAX_CAPTION_WORDS = 200
MAX_BLOCK_NGRAM = 10


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


@dataclass(frozen=True)
class DecodingSettings:
    """The decoding a captioner uses unless told otherwise; every field is checked when the object is made.

    Args:
        beam_size: beam width, 1 to `MAX_BEAM_SIZE` (1 = greedy).
        length_penalty: ``alpha`` in score = log p / steps ** alpha, 0 to `MAX_LENGTH_PENALTY` (0: raw
            log-probability, which favours short captions).
        max_length: most words per caption, 1 to `MAX_CAPTION_WORDS`; None: the longest caption the model was
            trained on.
        min_length: fewest words per caption (``<eos>`` is not emitted before), 0 to ``max_length``.
        block_ngram: ``n`` > 0 forbids any n-gram from occurring twice in a caption (0: off), at most
            `MAX_BLOCK_NGRAM`. Beam search only; sampling ignores it.

    Example:
        >>> DecodingSettings().beam_size, DecodingSettings().length_penalty
        (3, 0.7)
        >>> try:
        ...     DecodingSettings(min_length=9, max_length=5)
        ... except DecodingSettingsError as error:
        ...     print(error)
        decoding setting min_length (9) must not exceed max_length (5)
    """

    beam_size: int = DEFAULT_BEAM_SIZE
    length_penalty: float = DEFAULT_LENGTH_PENALTY
    max_length: int | None = None
    min_length: int = DEFAULT_MIN_LENGTH
    block_ngram: int = DEFAULT_BLOCK_NGRAM

    def __post_init__(self):
        _check_int("beam_size", self.beam_size, 1, MAX_BEAM_SIZE)
        penalty = self.length_penalty
        if isinstance(penalty, bool) or not isinstance(penalty, Real) or not math.isfinite(penalty) \
                or not 0 <= penalty <= MAX_LENGTH_PENALTY:
            raise DecodingSettingsError(
                f"decoding setting length_penalty must be a number from 0 to {MAX_LENGTH_PENALTY:g}, got {penalty!r}")
        if self.max_length is not None:
            _check_int("max_length", self.max_length, 1, MAX_CAPTION_WORDS, "None or an integer")
        _check_int("min_length", self.min_length, 0, MAX_CAPTION_WORDS)
        _check_int("block_ngram", self.block_ngram, 0, MAX_BLOCK_NGRAM)
        if self.max_length is not None and self.min_length > self.max_length:
            raise DecodingSettingsError(
                f"decoding setting min_length ({self.min_length}) must not exceed max_length ({self.max_length})")
        # Plain Python numbers, whatever came in (NumPy integers from a tuning table), so the config is JSON.
        object.__setattr__(self, "length_penalty", float(penalty))
        for name in ("beam_size", "min_length", "block_ngram"):
            object.__setattr__(self, name, int(getattr(self, name)))
        if self.max_length is not None:
            object.__setattr__(self, "max_length", int(self.max_length))

    def replace(self, **overrides) -> DecodingSettings:
        """These settings with ``overrides`` applied (an override of None keeps the stored value), checked.

        Example:
            >>> DecodingSettings(beam_size=5).replace(beam_size=None, length_penalty=1).length_penalty
            1.0
        """
        unknown = sorted(set(overrides) - set(self.names()))
        if unknown:
            raise DecodingSettingsError(f"unknown decoding setting(s) {', '.join(unknown)}; known: "
                                        f"{', '.join(self.names())}")
        return dataclasses.replace(self, **{key: value for key, value in overrides.items() if value is not None})

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The settings' names, in order.

        Example:
            >>> DecodingSettings.names()
            ('beam_size', 'length_penalty', 'max_length', 'min_length', 'block_ngram')
        """
        return tuple(field.name for field in dataclasses.fields(cls))

    def get_config(self) -> dict:
        """The settings as the JSON-able dict stored in the model's config.

        Example:
            >>> DecodingSettings(max_length=12).get_config()["max_length"]
            12
        """
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls, config: Mapping | None) -> DecodingSettings:
        """Settings from a stored dict; a missing dict (a model saved before the settings existed) or a missing
        key gives the default, an unknown key or a value out of range raises `DecodingSettingsError`.

        Example:
            >>> DecodingSettings.from_config(None) == DecodingSettings()
            True
            >>> DecodingSettings.from_config({"beam_size": 5}).beam_size
            5
        """
        if config is None:
            return cls()
        if not isinstance(config, Mapping):
            raise DecodingSettingsError(f"decoding settings must be a mapping of setting to value, got {config!r}")
        unknown = sorted(set(config) - set(cls.names()))
        if unknown:
            raise DecodingSettingsError(f"unknown decoding setting(s) {', '.join(map(str, unknown))}; known: "
                                        f"{', '.join(cls.names())}")
        return cls(**config)


def _check_int(name: str, value, low: int, high: int, kind: str = "an integer") -> None:
    if not _is_int(value) or not low <= value <= high:
        raise DecodingSettingsError(f"decoding setting {name} must be {kind} from {low} to {high}, got {value!r}")
