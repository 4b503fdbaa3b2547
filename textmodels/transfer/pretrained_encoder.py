"""Starting a classifier (or tagger) from a pretrained `LanguageModel`: semi-supervised sequence learning
(Dai & Le 2015) and ULMFiT (Howard & Ruder 2018) through the layers both share.

A language model and a `TextRNN` are built from the same `TextEmbedding` and `RecurrentBlock`, so the transfer
is a copy, layer by layer: the embedding (row by row, through the two vocabularies) and every recurrent layer
(the same cell, width and depth, read left to right). The classifier keeps the language model's tokenizer, so
a text splits into the same tokens it was pretrained on, and its vocabulary is the language model's (in the
same order, so row ``i`` is the language model's row ``i``) followed by the task's words that the language
model never saw, which start from the mean of the pretrained rows (ULMFiT's choice).

Example:
    >>> from textmodels.language_model import LanguageModel, fit_lm_encoder
    >>> lm = LanguageModel(fit_lm_encoder("a good film\\na bad film\\n"), embedding_dim=4, units=4, layers=1)
    >>> lm.build((None, None))
    >>> encoder, coverage, fresh = transfer_vocabulary(lm, ["a good plot", "a bad film"])
    >>> encoder.vocabulary.tokens[4:], round(coverage, 2), fresh
    (['a', 'film', 'bad', 'good', 'plot'], 0.83, 1)
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import keras

from textmodels.errors import ConfigurationError, DataError
from textmodels.text import RESERVED, TextEncoder, Vocabulary

# Below this share of the task's tokens known to the language model, the transfer is probably a mistake (another
# language, another tokenization, a character model's vocabulary): warn with the figure.
MIN_COVERAGE = 0.5
ENCODER_SETTINGS = ("level", "embedding_dim", "units", "cell", "layers")
_DESCRIPTIONS = {
    "level": lambda value: f"{value}-level tokens",
    "embedding_dim": lambda value: f"embedding width {value}",
    "units": lambda value: f"{value} units per layer",
    "cell": lambda value: f"{value} cells",
    "layers": lambda value: f"{value} recurrent layer{'s' if value != 1 else ''}",
}


def load_language_model(source):
    """``(language model, name)`` for ``source``: a `LanguageModel` or the path of one saved by ``train-lm``.

    Anything else is `textmodels.saving.ModelFileError` naming the file and what it holds (a classifier, a
    captioner, a damaged archive...).

    Example:
        >>> try:
        ...     load_language_model("missing-lm.keras")
        ... except ValueError as error:
        ...     print(error)
        missing-lm.keras: no such model file
    """
    from textmodels.language_model.language_model import LanguageModel

    if isinstance(source, LanguageModel):
        if not source.built:
            raise ConfigurationError("The language model to start from is not built; train or build it first.")
        return source, f"the {type(source).__name__}"
    return LanguageModel.load(Path(source)), str(source)


def encoder_settings(language_model) -> dict:
    """The settings a network must share with ``language_model`` to take its weights: ``level``,
    ``embedding_dim``, ``units``, ``cell``, ``layers``."""
    return {
        "level": language_model.level,
        "embedding_dim": language_model.embedding_dim,
        "units": language_model.units,
        "cell": language_model.cell,
        "layers": language_model.num_layers,
    }


def resolve_encoder_settings(language_model, name: str, requested: dict, what: str = "classifier") -> dict:
    """The language model's `encoder_settings`, after checking that every setting in ``requested`` that is
    not None equals it: `ConfigurationError` naming both values otherwise.

    Example:
        >>> from textmodels.language_model import LanguageModel, fit_lm_encoder
        >>> lm = LanguageModel(fit_lm_encoder("a b\\n"), embedding_dim=4, units=8, layers=1)
        >>> try:
        ...     resolve_encoder_settings(lm, "lm.keras", {"units": 64, "cell": None})
        ... except ConfigurationError as error:
        ...     print(*str(error).split("; "), sep="\\n")
        lm.keras: the language model has 8 units per layer but this classifier asks for 64 units per layer
        leave units out to take the language model's.
    """
    settings = encoder_settings(language_model)
    for key, value in requested.items():
        if key in settings and value is not None and value != settings[key]:
            describe = _DESCRIPTIONS[key]
            raise ConfigurationError(
                f"{name}: the language model has {describe(settings[key])} but this {what} asks for "
                f"{describe(value)}; leave {key} out to take the language model's."
            )
    return settings


def transfer_vocabulary(language_model, texts: Sequence[str], min_count: int = 1,
                        max_size: int | None = None) -> tuple[TextEncoder, float, int]:
    """``(encoder, coverage, fresh words)``: a `TextEncoder` with the language model's tokenizer and the
    `extended_vocabulary` of the tokens of ``texts``."""
    tokenizer = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(language_model.text_encoder.tokenizer)
    )
    counts = Counter(token for text in texts for token in tokenizer.tokenize(text))
    vocabulary, coverage, fresh = extended_vocabulary(language_model, counts, min_count, max_size)
    return TextEncoder(tokenizer, vocabulary), coverage, fresh


def extended_vocabulary(language_model, counts: Counter, min_count: int = 1,
                        max_size: int | None = None) -> tuple[Vocabulary, float, int]:
    """``(vocabulary, coverage, fresh words)``: the language model's tokens (same ids) followed by the task's
    words (``counts``: token -> count) that it lacks, seen ``min_count`` times, most frequent first, as many as
    fit in ``max_size`` beyond the language model's own; the share of the task's tokens it knows; how many words
    were added. Below `MIN_COVERAGE` a warning gives the figure.

    Example:
        >>> from textmodels.language_model import LanguageModel, fit_lm_encoder
        >>> lm = LanguageModel(fit_lm_encoder("a b\\n"), embedding_dim=4, units=4, layers=1)
        >>> vocabulary, coverage, fresh = extended_vocabulary(lm, Counter({"a": 3, "c": 1}))
        >>> vocabulary.tokens[4:], coverage, fresh
        (['a', 'b', 'c'], 0.75, 1)
    """
    total = sum(counts.values())
    if not total:
        raise DataError("Cannot build a vocabulary: the texts contain no tokens.")
    pretrained = list(language_model.text_encoder.vocabulary.tokens)
    known = set(pretrained)
    coverage = sum(count for token, count in counts.items() if token in known) / total
    new = sorted((token for token, count in counts.items()
                  if count >= min_count and token not in known and token not in RESERVED),
                 key=lambda token: (-counts[token], token))
    if max_size is not None:
        new = new[: max(0, max_size - len(pretrained))]
    if coverage < MIN_COVERAGE:
        warnings.warn(
            f"The language model knows only {100 * coverage:.1f}% of the training tokens ({len(new):,} new "
            f"words); was it trained on text like this (language, tokenization, case)?", stacklevel=4
        )
    return Vocabulary([*pretrained, *new]), coverage, len(new)


def copy_embedding(language_model, embedding) -> None:
    """Copies the language model's embedding rows into the first rows of ``embedding`` (a built
    `TextEmbedding` whose vocabulary starts with the language model's, see `transfer_vocabulary`); the rows
    after them get the mean pretrained word vector."""
    source = keras.ops.convert_to_numpy(language_model.embedding.embeddings)
    target = keras.ops.convert_to_numpy(embedding.embeddings).copy()
    if source.shape[1] != target.shape[1] or target.shape[0] < source.shape[0]:
        raise ConfigurationError(
            f"The language model's embedding is {source.shape[0]} x {source.shape[1]}; this network's "
            f"{target.shape[0]} x {target.shape[1]} cannot hold it."
        )
    target[: len(source)] = source
    target[len(source):] = source[len(RESERVED):].mean(axis=0)
    embedding.embeddings.assign(target)


def copy_recurrent_layers(language_model, block) -> list[str]:
    """Copies every recurrent layer of the language model into the same layer of ``block`` (a built
    `RecurrentBlock` of the same cell, width and depth; a bidirectional layer takes it into its forward
    direction, the backward one keeps its fresh weights); returns the layers' names."""
    copied = []
    for source, target in zip(language_model.block.recurrent_layers, block.recurrent_layers, strict=True):
        forward = target.forward_layer if isinstance(target, keras.layers.Bidirectional) else target
        for source_weight, target_weight in zip(source.cell.weights, forward.cell.weights, strict=True):
            if tuple(source_weight.shape) != tuple(target_weight.shape):
                raise ConfigurationError(
                    f"Recurrent layer {source.name}: the language model's {source_weight.name} is "
                    f"{tuple(source_weight.shape)}, this network's {tuple(target_weight.shape)}."
                )
            # A copy: on JAX, assigning the variable would share its buffer, which training donates (deleting the
            # language model's weights with it).
            target_weight.assign(keras.ops.convert_to_numpy(source_weight))
        copied.append(f"{block.name}/{target.name}" + ("/forward" if forward is not target else ""))
    return copied


def fine_tune_language_model(language_model, texts: Sequence[str], epochs: int, batch_size: int = 32,
                             num_steps: int = 35, learning_rate: float | None = None, verbose="auto"):
    """A copy of ``language_model`` trained ``epochs`` more epochs on ``texts`` (ULMFiT's second stage: the
    task's own texts, labels unused); the original is left as it was. Words it does not know read as
    ``<unk>``. A stream-regime model reads the texts as one stream (one line each) in windows of
    ``num_steps`` tokens; a sentences-regime model reads one text per sequence.

    Example:
        >>> from textmodels.language_model import LanguageModel, fit_lm_encoder
        >>> lm = LanguageModel(fit_lm_encoder("a b c\\n"), embedding_dim=4, units=4, layers=1)
        >>> lm.build((None, None))
        >>> tuned = fine_tune_language_model(lm, ["a b c"] * 30, epochs=1, batch_size=2, num_steps=4, verbose=0)
        >>> tuned is not lm, tuned.vocabulary_size == lm.vocabulary_size
        (True, True)
    """
    from textmodels.data.lm_batches import sentence_pairs, stream_windows
    from textmodels.language_model.encoding import encode_sentences, encode_stream
    from textmodels.language_model.training import compile_lm

    config = language_model.get_config()
    config["stateful"] = False
    model = type(language_model).from_config(config)
    model.build((None, None))
    model.set_weights(language_model.get_weights())
    text = "\n".join(" ".join(text.split()) for text in texts)
    if model.regime == "stream":
        ids = encode_stream(text, model.text_encoder)
        streams = max(1, min(batch_size, (len(ids) - 1) // (num_steps + 1)))
        x, y = stream_windows(ids, streams, num_steps)
    else:
        x, y = sentence_pairs(encode_sentences(text, model.text_encoder))
    compile_lm(model, "adam", learning_rate)
    model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=verbose)
    return model
