"""Caption images from Python: ``Captioner.from_preset("flickr8k_mobilenet_v2").caption("photo.jpg")``, or
``Captioner.load("model.keras")`` for a model of your own.

The model is loaded once (``safe_mode=True``) and its encoder and decoding steps compiled once; every call then
encodes the images in a batch and decodes them together, with the decoding settings stored in the model
(`captioner.decoding_settings.DecodingSettings`) unless an argument overrides one. One input gives one caption; a
list (or a 4-D array) gives a list, where an item that cannot be read becomes a `CaptionFailure` naming it while
the others are still captioned.

Example:
    >>> import tempfile
    >>> import numpy as np
    >>> from captioner.model import CaptionModel, fit_caption_vocabulary
    >>> model = CaptionModel.create(fit_caption_vocabulary(["a red circle"], min_count=1),
    ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
    >>> path = Captioner(model).save(tempfile.mkdtemp() + "/model.keras")
    >>> captioner = Captioner.load(path)
    >>> results = captioner.caption([np.zeros((20, 20, 3), np.uint8), "missing.png"], beam_size=2)
    >>> isinstance(results[0], str), bool(results[1]), "missing.png" in results[1].error
    (True, False, True)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from captioner.data.images import ImageLoadError, load_images
from captioner.decoding_settings import DecodingSettings
from captioner.errors import CaptionerError, DecodingSettingsError
from textmodels.errors import INTEGER, NON_NEGATIVE_NUMBER, POSITIVE_INT, check
from textmodels.saving import ModelFileError, load_model, read_archive_text, save_model


class CaptionerLoadError(CaptionerError, ModelFileError):
    """The file is not a saved captioner: missing, not a ``.keras`` archive, or a different kind of model."""


@dataclass(frozen=True)
class CaptionFailure:
    """Stands in the result list for an input that could not be captioned; falsy, with the reason.

    Example:
        >>> failure = CaptionFailure(index=2, source="cat.jpg", error="image file 'cat.jpg' is empty (0 bytes)")
        >>> bool(failure), failure.index
        (False, 2)
    """

    index: int
    source: str
    error: str

    def __bool__(self) -> bool:
        return False

    def __str__(self) -> str:
        return f"error: {self.error}"


def _describe(source: Any) -> str:
    if isinstance(source, (str, Path)):
        return str(source)
    if isinstance(source, np.ndarray):
        return f"array{source.shape}"
    return type(source).__name__


class Captioner:
    """A loaded captioner, ready to caption paths, PIL images and arrays.

    Args:
        model: a `captioner.model.CaptionModel`; usually obtained through `Captioner.load`.

    Example:
        >>> import numpy as np
        >>> from captioner.model import CaptionModel, fit_caption_vocabulary
        >>> model = CaptionModel.create(fit_caption_vocabulary(["a red circle"], min_count=1),
        ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
        >>> candidates = Captioner(model).caption(np.zeros((16, 16, 3)), beam_size=2, return_scores=True)
        >>> len(candidates), sorted(candidates[0])
        (2, ['caption', 'log_prob', 'score'])
    """

    def __init__(self, model):
        from captioner.model import CaptionModel

        if not isinstance(model, CaptionModel):
            raise CaptionerLoadError(f"Captioner needs a CaptionModel, got {type(model).__name__}.")
        self.model = model

    @classmethod
    def load(cls, path: str | Path) -> Captioner:
        """The captioner saved at ``path`` by `save` (or ``captioner train``), its decoding step compiled here,
        once; `CaptionerLoadError` naming the file when it is missing, not a ``.keras`` archive or another
        kind of model.

        Example:
            >>> try:
            ...     Captioner.load("no/such/model.keras")
            ... except CaptionerLoadError as error:
            ...     print(error)
            no/such/model.keras: no such model file
        """
        from captioner.model import CaptionModel

        if not isinstance(path, (str, os.PathLike)):
            raise CaptionerLoadError(f"Captioner.load needs the path of a .keras file, got {path!r}")
        _check_stored_decoding(path)
        captioner = cls(load_model(path, [CaptionModel], "a captioner", compile=False, error=CaptionerLoadError))
        captioner.warm_up()
        return captioner

    @classmethod
    def from_preset(cls, preset: str | Path) -> Captioner:
        """A ready-made captioner: a preset's name (see `captioner.presets`), or the path of a ``.keras`` file or of
        a folder holding one. A preset's file is checked against its recorded SHA-256 digest before it is
        loaded, so a truncated or altered file is refused (`captioner.errors.PresetError`), never run; an
        unknown name is refused with the list of known ones.

        Example:
            >>> try:
            ...     Captioner.from_preset("no_such_preset")
            ... except CaptionerError as error:
            ...     print(str(error).split(";")[0])
            unknown preset 'no_such_preset'
        """
        from captioner.presets import resolve_preset

        return cls.load(resolve_preset(preset))

    def warm_up(self) -> Captioner:
        """Traces the encoder and the decoding steps now (one tiny caption, nothing stored), so that no later call
        waits for tracing: a server's first request, a benchmark's first timed call. `load` does it; returns self.

        Example:
            >>> import numpy as np
            >>> from captioner.model import CaptionModel, fit_caption_vocabulary
            >>> model = CaptionModel.create(fit_caption_vocabulary(["a cat sits"], min_count=1),
            ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
            >>> image = np.full((16, 16, 3), 128.0)
            >>> Captioner(model).warm_up().caption(image) == Captioner(model).caption(image)
            True
        """
        height, width = self.image_size
        self.model.generate(self.model.encode_images(np.zeros((1, height, width, 3), np.float32)), beam_size=1,
                            max_length=1, min_length=0)
        return self

    @property
    def decoding(self) -> DecodingSettings:
        """The decoding settings stored in the model (`caption` uses them unless an argument overrides one)."""
        return self.model.decoding

    def save(self, path: str | Path) -> Path:
        """Writes the captioner for inference (weights, vocabulary, encoder and decoder configs; no optimizer
        state) to one ``.keras`` file, atomically; returns the path.

        Example:
            >>> import tempfile
            >>> from captioner.model import CaptionModel, fit_caption_vocabulary
            >>> model = CaptionModel.create(fit_caption_vocabulary(["a cat"], min_count=1),
            ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
            >>> Captioner(model).save(tempfile.mkdtemp() + "/model.keras").suffix
            '.keras'
        """
        from captioner.model import CaptionModel

        inference_copy = CaptionModel.from_config(self.model.get_config())
        inference_copy.set_weights(self.model.get_weights())
        return save_model(inference_copy, path)

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) every image is resized to."""
        return self.model.image_size

    def caption(
        self,
        images,
        beam_size: int | None = None,
        temperature: float | None = None,
        return_scores: bool = False,
        max_length: int | None = None,
        seed: int | None = None,
        batch_size: int = 32,
        *,
        length_penalty: float | None = None,
        min_length: int | None = None,
        block_ngram: int | None = None,
    ):
        """Caption one image or a list of them.

        ``beam_size``, ``length_penalty``, ``max_length``, ``min_length`` and ``block_ngram`` default to the
        settings stored in the model (`decoding`); a value given here overrides that one setting for this call
        (`DecodingSettingsError` when out of range).

        Args:
            images: a path, a PIL image, a (H, W, 3) / (H, W) array in 0..255, or a list of these (a 4-D array
                counts as a list).
            beam_size: beam width (1 = greedy); ignored when ``temperature`` is given.
            temperature: sample instead of searching (0 = greedy, higher = more varied).
            return_scores: return, per image, the candidates as ``{"caption", "log_prob", "score"}`` dicts, best
                first (``beam_size`` of them for beam search, one when sampling) instead of the text.
            max_length: most words per caption.
            seed: random seed for sampling.
            length_penalty: beam score = log p / steps ** length_penalty.
            min_length: fewest words per caption.
            block_ngram: forbid any n-gram of this size from repeating (0: off).

        Returns:
            For one image, its caption (or candidates); for a list, a list with one entry per input, where an
            input that could not be loaded is a falsy `CaptionFailure` (one bad file never loses the batch).
            A single bad input raises `ImageLoadError`.
        """
        check("temperature", temperature, NON_NEGATIVE_NUMBER, optional=True)
        check("seed", seed, INTEGER, optional=True)
        check("batch_size", batch_size, POSITIVE_INT)
        decoding = self.model.decoding_settings(beam_size=beam_size, length_penalty=length_penalty,
                                                max_length=max_length, min_length=min_length, block_ngram=block_ngram)
        single = not isinstance(images, (list, tuple)) and not (isinstance(images, np.ndarray) and images.ndim == 4)
        if single:
            result = self._caption_list([images], decoding, temperature, return_scores, seed, batch_size)[0]
            if isinstance(result, CaptionFailure):
                raise ImageLoadError(result.error)
            return result
        return self._caption_list(images, decoding, temperature, return_scores, seed, batch_size)

    def _caption_list(self, images, decoding: DecodingSettings, temperature, return_scores: bool, seed, batch_size):
        sources = list(images)
        results: list[Any] = [None] * len(sources)
        for start in range(0, len(sources), batch_size):
            chunk = sources[start : start + batch_size]
            pixels, errors = load_images(chunk, size=self.image_size)
            for offset, message in errors.items():
                results[start + offset] = CaptionFailure(start + offset, _describe(chunk[offset]), message)
            good = [offset for offset in range(len(chunk)) if offset not in errors]
            if not good:
                continue
            settings = dict(decoding.get_config(), temperature=temperature, seed=seed,
                            num_return=decoding.beam_size if (return_scores and temperature is None) else 1)
            try:
                outcomes = list(zip(good, self.model.generate(self.model.encode_images(pixels[good]), **settings)))
            except Exception:  # noqa: BLE001 - NumPy's and TensorFlow's numerical errors share no base: retry each
                outcomes = [(offset, self._generate_one(pixels[offset], settings)) for offset in good]
                failures = [hyps for _, hyps in outcomes if isinstance(hyps, Exception)]
                if len(failures) == len(outcomes):
                    raise failures[0] from None  # every image fails alike: the model's fault (or a bug), not an image's
            for offset, hyps in outcomes:
                if isinstance(hyps, Exception):
                    message = f"{_describe(chunk[offset])}: captioning failed ({type(hyps).__name__}: {hyps})"
                    results[start + offset] = CaptionFailure(start + offset, _describe(chunk[offset]), message)
                else:
                    results[start + offset] = self._format(hyps, return_scores)
        return results

    def _generate_one(self, pixels: np.ndarray, settings: dict):
        """One image's hypotheses, or the exception that captioning it raised: a failure inside a batch is
        traced back to the images that cause it, and the others are still captioned."""
        try:
            return self.model.generate(self.model.encode_images(pixels[None]), **settings)[0]
        except Exception as error:  # noqa: BLE001 - reported by `caption` (raised when every image fails)
            return error

    def _format(self, hypotheses: Sequence, return_scores: bool):
        """The caption text of the best hypothesis, or every hypothesis as a dict with its scores."""
        decode = self.model.text_encoder.decode
        if not return_scores:
            return decode(hypotheses[0].tokens)
        return [{"caption": decode(hyp.tokens), "log_prob": float(hyp.log_prob), "score": float(hyp.score)}
                for hyp in hypotheses]


def _check_stored_decoding(path: str | os.PathLike) -> None:
    """`CaptionerLoadError` naming the file and the setting when the decoding settings stored in ``path`` are out
    of range; files without settings (saved before they existed) pass, and load with the defaults. A file that is
    not a captioner archive is left for `load_model` to describe."""
    try:
        text = read_archive_text(path, "config.json")
    except (OSError, ValueError):
        return
    try:
        stored = json.loads(text or "{}").get("config", {}).get("decoding")
    except (json.JSONDecodeError, AttributeError):
        return
    try:
        DecodingSettings.from_config(stored)
    except DecodingSettingsError as error:
        raise CaptionerLoadError(f"{path}: {error}") from None
