"""The captioner as one Keras model: image encoder, caption decoder and vocabulary, saved in one ``.keras`` file.

`CaptionModel` takes ``{"images": (B, H, W, 3) RGB 0..255, "tokens": (B, T)}`` (end to end) or
``{"features": (B, feature_dim), "tokens": (B, T)}`` (cached features) and returns next-word logits. Its config
holds the encoder description, the decoder config and the `TextEncoder` (tokenizer + vocabulary); the weights
of both networks travel in the same file, so ``keras.saving.load_model(path, safe_mode=True)`` gives back a
model that captions raw images with nothing else at hand.

Decoding (`CaptionModel.generate`) runs one compiled decoder step at a time with the recurrent state carried
between tokens, batched over images and beams (`textmodels.decoding`). How it decodes (beam width, length
penalty, caption length, n-gram blocking) is the model's `captioner.decoding_settings.DecodingSettings`
(``model.decoding``), saved in the same file; each call may override any of them.

Example:
    >>> import numpy as np
    >>> from captioner.model import CaptionModel, fit_caption_vocabulary
    >>> text_encoder = fit_caption_vocabulary(["a red circle", "a blue square"], min_count=1, max_length=5)
    >>> model = CaptionModel.create(text_encoder, {"kind": "small", "image_size": 16, "conv_filters": [4],
    ...                                            "feature_dim": 8}, embedding_dim=4, units=8)
    >>> captions = model.caption_images(np.zeros((2, 16, 16, 3), "float32"), beam_size=2)
    >>> len(captions), all(isinstance(text, str) for text in captions)
    (2, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import keras
import numpy as np
from keras import ops

from captioner.decoder import CaptionDecoder
from captioner.decoding_settings import DecodingSettings
from captioner.decoding_steps import NEVER_EMITTED, compile_decoding_steps
from captioner.encoder import build_encoder
from captioner.errors import DecodingSettingsError
from textmodels.decoding import Hypothesis, beam_search, compile_step, sample_search
from textmodels.errors import ConfigurationError
from textmodels.text import TextEncoder, Vocabulary, pack_ids


def fit_caption_vocabulary(captions: Iterable[str], min_count: int = 5, max_length: int = 20) -> TextEncoder:
    """A word-level, lower-casing `TextEncoder` for captions: ``<bos>`` + at most ``max_length`` words + ``<eos>``
    (its ``encode`` cuts long captions' words, never their ``<eos>``).

    Words seen fewer than ``min_count`` times become ``<unk>``. No NLTK data is needed (Treebank rules).

    Example:
        >>> encoder = fit_caption_vocabulary(["A dog.", "a dog runs"], min_count=2, max_length=4)
        >>> encoder.vocabulary.tokens[4:]
        ['a', 'dog']
    """
    if max_length < 1:
        raise ConfigurationError(f"max_length must be at least 1 word, got {max_length}.")
    fitted = TextEncoder.fit(list(captions), level="word", min_count=min_count)
    return TextEncoder(fitted.tokenizer, fitted.vocabulary, max_length=max_length + 2, add_bos=True, add_eos=True)


@keras.saving.register_keras_serializable(package="captioner")
class CaptionModel(keras.Model):
    """Image encoder + `CaptionDecoder` + caption `TextEncoder`.

    Build one with `CaptionModel.create`. ``image_blind=True`` makes the image-blind baseline: the decoder gets
    zeros instead of image features (and no encoder is built), everything else identical. ``decoding`` (a
    `DecodingSettings` or its config; default: the defaults) is how `generate` decodes unless told otherwise;
    assign ``model.decoding`` to change it (checked against the model: ``min_length`` at most the longest
    caption).

    Example:
        >>> from captioner.model import CaptionModel, fit_caption_vocabulary
        >>> text_encoder = fit_caption_vocabulary(["a cat"], min_count=1)
        >>> model = CaptionModel.create(text_encoder, {"kind": "small", "image_size": 16, "conv_filters": [4],
        ...                                            "feature_dim": 8}, image_blind=True)
        >>> model.encoder is None, model.feature_dim
        (True, 8)
    """

    def __init__(
        self,
        text_encoder: TextEncoder | Mapping,
        encoder_config: Mapping,
        decoder: CaptionDecoder | Mapping,
        image_blind: bool = False,
        train_encoder: bool = True,
        encoder: keras.Model | None = None,
        decoding: DecodingSettings | Mapping | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(text_encoder, Mapping):
            text_encoder = keras.saving.deserialize_keras_object(text_encoder)
        if isinstance(decoder, Mapping):
            decoder = keras.saving.deserialize_keras_object(decoder)
        if not isinstance(text_encoder, TextEncoder) or not text_encoder.add_bos or not text_encoder.add_eos:
            raise ValueError(
                "text_encoder must be a TextEncoder with add_bos and add_eos (see fit_caption_vocabulary)."
            )
        if decoder.vocabulary_size != len(text_encoder.vocabulary):
            raise ValueError(
                f"decoder.vocabulary_size is {decoder.vocabulary_size} but the vocabulary has "
                f"{len(text_encoder.vocabulary)} tokens."
            )
        if decoder.feature_dim != encoder_config["feature_dim"]:
            raise ValueError(
                f"decoder.feature_dim is {decoder.feature_dim} but the encoder yields {encoder_config['feature_dim']}."
            )
        self.text_encoder = text_encoder
        self.decoding = decoding if isinstance(decoding, DecodingSettings) else DecodingSettings.from_config(decoding)
        self.encoder_config = dict(encoder_config)
        self.image_blind = bool(image_blind)
        self.train_encoder = bool(train_encoder)
        self.decoder = decoder
        # A loaded model gets its encoder weights from the file, so the architecture is built without any.
        self.encoder = None if self.image_blind else (encoder or build_encoder(self.encoder_config, weights=None))
        if self.encoder is not None:
            self.encoder.trainable = self.train_encoder
        # Compiled on first use (`compile_step`): the encoder for `encode_images`, the decoder's steps for decoding.
        self._encoding = None
        self._decoding_steps = None
        self.build()

    @classmethod
    def create(
        cls,
        text_encoder: TextEncoder,
        encoder_config: Mapping,
        *,
        image_blind: bool = False,
        train_encoder: bool = True,
        decoding: DecodingSettings | None = None,
        name: str = "captioner",
        **decoder_settings,
    ) -> CaptionModel:
        """A new captioner; the encoder gets the weights its config names (e.g. VGG16 ``imagenet``).
        ``decoder_settings`` are the `CaptionDecoder`'s (``embedding_dim``, ``units``, ``cell``, ``layers``,
        ``inject``, ``dropout``, ``image_projection_dim``, ``feature_normalization``), its defaults otherwise.

        Example:
            >>> from captioner.model import fit_caption_vocabulary
            >>> model = CaptionModel.create(fit_caption_vocabulary(["a cat"], min_count=1),
            ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8}, inject="merge")
            >>> model.decoder.inject
            'merge'
        """
        decoder = CaptionDecoder(len(text_encoder.vocabulary), int(encoder_config["feature_dim"]),
                                 **decoder_settings, name="decoder")
        encoder = None if image_blind else build_encoder(encoder_config)
        return cls(text_encoder, encoder_config, decoder, image_blind=image_blind, train_encoder=train_encoder,
                   encoder=encoder, decoding=decoding, name=name)

    @property
    def feature_dim(self) -> int:
        return int(self.encoder_config["feature_dim"])

    @property
    def image_size(self) -> tuple[int, int]:
        side = int(self.encoder_config["image_size"])
        return side, side

    @property
    def max_caption_length(self) -> int:
        """Most words of a training caption: the default longest decoded caption."""
        return self.text_encoder.max_length - 2

    @property
    def decoding(self) -> DecodingSettings:
        """The stored `DecodingSettings`: how every captioning path decodes unless told otherwise."""
        return self._decoding_settings

    @decoding.setter
    def decoding(self, settings: DecodingSettings) -> None:
        if not isinstance(settings, DecodingSettings):
            raise DecodingSettingsError(f"decoding must be a DecodingSettings, got {type(settings).__name__}")
        self._check_decoding(settings)
        self._decoding_settings = settings

    def _check_decoding(self, settings: DecodingSettings) -> None:
        longest = self.max_caption_length if settings.max_length is None else settings.max_length
        if settings.min_length > longest:
            raise DecodingSettingsError(
                f"decoding setting min_length ({settings.min_length}) must not exceed the longest caption "
                f"({longest} words{'' if settings.max_length is not None else ', the training maximum'})")

    def decoding_settings(self, **overrides) -> DecodingSettings:
        """The stored settings with ``overrides`` applied (None keeps a stored value), checked, and ``max_length``
        filled in: what one decoding call uses.

        Example:
            >>> from captioner.model import CaptionModel, fit_caption_vocabulary
            >>> model = CaptionModel.create(fit_caption_vocabulary(["a cat"], min_count=1, max_length=9),
            ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
            >>> settings = model.decoding_settings(beam_size=5)
            >>> settings.beam_size, settings.max_length, model.decoding.beam_size
            (5, 9, 3)
        """
        settings = self.decoding.replace(**overrides)
        self._check_decoding(settings)
        if settings.max_length is None:
            settings = settings.replace(max_length=self.max_caption_length)
        return settings

    def build(self, input_shape=None):
        if not self.decoder.built:
            self.decoder.build((None, self.feature_dim), (None, None))
        self.built = True

    def call(self, inputs, training=None):
        """Logits for ``inputs["tokens"]``: (B, T) -> (B, T, V), or (B, K, T) -> (B, K, T, V) for K captions
        per image (all-padding rows allowed), which encodes each image once for all its captions."""
        tokens = inputs["tokens"]
        if self.image_blind:
            features = ops.zeros((ops.shape(tokens)[0], self.feature_dim))
        elif "features" in inputs:
            features = inputs["features"]
        else:
            features = self.encoder(inputs["images"], training=bool(training) and self.train_encoder)
        if len(tokens.shape) == 3:
            per_image, steps = tokens.shape[1], ops.shape(tokens)[2]
            logits = self.decoder(ops.repeat(features, per_image, axis=0), ops.reshape(tokens, (-1, steps)),
                                  training=training)
            return ops.reshape(logits, (-1, per_image, steps, self.decoder.vocabulary_size))
        return self.decoder(features, tokens, training=training)

    def encode_images(self, images, batch_size: int = 32) -> np.ndarray:
        """``(N, feature_dim)`` float32 features of ``images`` ((N, H, W, 3) RGB in 0..255; zeros when blind).

        Example:
            >>> import numpy as np
            >>> from captioner.model import CaptionModel, fit_caption_vocabulary
            >>> model = CaptionModel.create(fit_caption_vocabulary(["a cat"], min_count=1),
            ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
            >>> model.encode_images(np.zeros((3, 16, 16, 3))).shape
            (3, 8)
        """
        images = np.asarray(images, dtype=np.float32)
        expected = (*self.image_size, 3)
        if images.ndim != 4 or images.shape[1:] != expected:
            raise ValueError(f"images must have shape (N, {expected[0]}, {expected[1]}, 3), got {images.shape}.")
        if self.image_blind:
            return np.zeros((len(images), self.feature_dim), np.float32)
        if self._encoding is None:
            encoder = self.encoder
            # One graph for every batch size on TensorFlow (JAX compiles one per size; the server pads batches
            # to a few sizes, `captioner.serving.batcher`).
            batch_spec = [keras.InputSpec(shape=(None, *expected), dtype="float32")]
            self._encoding = compile_step(lambda batch: encoder(batch, training=False), batch_spec, weights=encoder)
        chunks = [
            ops.convert_to_numpy(self._encoding(images[start : start + batch_size])).astype(np.float32)
            for start in range(0, len(images), batch_size)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.feature_dim), np.float32)

    def decoding_functions(self):
        """``(initial_state_fn, step_fn)`` for `textmodels.decoding`'s searches, built (and compiled) once per model
        (`captioner.decoding_steps.compile_decoding_steps`).

        Example:
            >>> import numpy as np
            >>> from textmodels.decoding import greedy_search
            >>> from captioner.model import CaptionModel, fit_caption_vocabulary
            >>> model = CaptionModel.create(fit_caption_vocabulary(["a cat"], min_count=1),
            ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
            >>> start, step = model.decoding_functions()
            >>> len(greedy_search(step, start(np.zeros((2, 8), "float32")), 2, bos_id=2, eos_id=3, max_length=4))
            2
        """
        if self._decoding_steps is None:
            self._decoding_steps = compile_decoding_steps(self.decoder)
        return self._decoding_steps

    def generate(
        self,
        features,
        beam_size: int | None = None,
        temperature: float | None = None,
        max_length: int | None = None,
        num_return: int = 1,
        length_penalty: float | None = None,
        block_ngram: int | None = None,
        min_length: int | None = None,
        seed: int | None = None,
    ) -> list[list[Hypothesis]]:
        """Decode ``features`` (N, feature_dim): for each image its best hypotheses (best first).

        Beam search unless ``temperature`` is given, which samples one caption per image instead (temperature 0 =
        greedy); sampled hypotheses carry their log-probability. ``beam_size``, ``length_penalty``,
        ``max_length`` and ``min_length`` (in words) and ``block_ngram`` override the stored `decoding` for
        this call (None: the stored value; see `DecodingSettings`).

        Example:
            >>> import numpy as np
            >>> from captioner.model import CaptionModel, fit_caption_vocabulary
            >>> model = CaptionModel.create(fit_caption_vocabulary(["a cat"], min_count=1),
            ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
            >>> [len(hyps) for hyps in model.generate(np.zeros((2, 8), "float32"), beam_size=2, num_return=2)]
            [2, 2]
        """
        settings = self.decoding_settings(beam_size=beam_size, length_penalty=length_penalty, max_length=max_length,
                                          min_length=min_length, block_ngram=block_ngram)
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2 or features.shape[1] != self.feature_dim:
            raise ValueError(f"features must have shape (N, {self.feature_dim}), got {features.shape}.")
        if len(features) == 0:
            return []
        start, step = self.decoding_functions()
        # Decoding steps: every word, then <eos> (the last step emits nothing else: at most max_length words).
        common = dict(bos_id=Vocabulary.bos_id, eos_id=Vocabulary.eos_id, max_length=settings.max_length + 1,
                      banned_ids=NEVER_EMITTED, min_length=settings.min_length, eos_at_max_length=True)
        if temperature is None:
            return beam_search(step, start(features), len(features), beam_size=settings.beam_size,
                               num_return=num_return, length_penalty=settings.length_penalty,
                               block_ngram=settings.block_ngram, **common)
        token_lists = sample_search(step, start(features), len(features), temperature=temperature,
                                    rng=np.random.default_rng(seed), **common)
        log_probs = self.sequence_log_probs(features, token_lists)
        return [[Hypothesis(tokens, float(lp), float(lp) / (len(tokens) + 1) ** settings.length_penalty)]
                for tokens, lp in zip(token_lists, log_probs)]

    def sequence_log_probs(self, features, token_lists: Sequence[Sequence[int]]) -> np.ndarray:
        """Log-probability of each caption (token ids without ``<bos>``/``<eos>``, plus the final ``<eos>``).

        Example:
            >>> import numpy as np
            >>> from captioner.model import CaptionModel, fit_caption_vocabulary
            >>> model = CaptionModel.create(fit_caption_vocabulary(["a cat"], min_count=1),
            ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
            >>> bool(model.sequence_log_probs(np.zeros((1, 8), "float32"), [[4, 5]])[0] < 0)
            True
        """
        ids = pack_ids(token_lists, bos_id=Vocabulary.bos_id, eos_id=Vocabulary.eos_id)
        logits = self.decoder(np.asarray(features, np.float32), ids[:, :-1], training=False)
        log_probs = ops.convert_to_numpy(ops.log_softmax(logits, axis=-1)).astype(np.float64)
        targets = ids[:, 1:]
        picked = np.take_along_axis(log_probs, targets[..., None].astype(np.int64), axis=-1)[..., 0]
        return (picked * (targets != 0)).sum(axis=1)

    def caption_images(self, images, **options) -> list[str]:
        """Caption text for each of ``images`` ((N, H, W, 3) RGB in 0..255), best beam hypothesis; ``options`` go
        to `generate` (the stored `decoding` otherwise).

        Example:
            >>> import numpy as np
            >>> from captioner.model import CaptionModel, fit_caption_vocabulary
            >>> model = CaptionModel.create(fit_caption_vocabulary(["a cat"], min_count=1),
            ...     {"kind": "small", "image_size": 16, "conv_filters": [4], "feature_dim": 8})
            >>> captions = model.caption_images(np.zeros((2, 16, 16, 3)), beam_size=1, max_length=2)
            >>> len(captions), all(set(caption.split()) <= {"a", "cat"} for caption in captions)  # its words only
            (2, True)
        """
        hypotheses = self.generate(self.encode_images(images), **options)
        return [self.text_encoder.decode(hyps[0].tokens) for hyps in hypotheses]

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "text_encoder": keras.saving.serialize_keras_object(self.text_encoder),
            "encoder_config": self.encoder_config,
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "image_blind": self.image_blind,
            "train_encoder": self.train_encoder,
            "decoding": self.decoding.get_config(),
        }
