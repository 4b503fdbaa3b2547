"""The Keras network of a `TextClassifier`, built from its settings and its training texts: the model (``auto``
chooses from the texts), the text encoder (fitted, or a language model's vocabulary grown by the task's words),
its length, pretrained vectors or the language model's weights, the `TextRNN`, `TextCNN` or `TextBag`, and its
optimizer.

Example:
    >>> from textmodels.classification.text_classifier import TextClassifier
    >>> network, vectors_report, transfer_report = build_classifier_network(
    ...     TextClassifier("textcnn", embedding_dim=8, filters=2), ["good film", "bad film"], ["pos", "neg"])
    >>> type(network).__name__, network.problem, network.text_encoder.max_length, transfer_report
    ('TextCNN', 'binary', 2, None)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from textmodels.classification.label_encoding import infer_problem, label_names
from textmodels.classifier_config import DEFAULTS, LONG_DOCUMENT_WORDS
from textmodels.errors import ConfigurationError

# When no max_length is given, the longest training text decides it, up to this many tokens; a bag of n-grams,
# whose cost grows with the text but not with its order, reads up to BAG_LENGTH_CAP ids (words and n-grams).
DEFAULT_LENGTH_CAP = 500
BAG_LENGTH_CAP = 5000
# The learning rate of "bag" with Adam or RMSprop when none is given: a linear model over mean embeddings learns
# slowly at Adam's own 1e-3 (movie_reviews, 2 folds: 86.3% at the 10-epoch cap against 89.7% in 7 epochs at 1e-2).
BAG_LEARNING_RATE = 1e-2


def build_classifier_network(classifier, texts: list[str], labels: list, verbose="auto"):
    """``(network, vectors_report, transfer_report)``: ``classifier``'s network, built and compiled for ``texts``
    and ``labels``; the reports of loading word vectors and of starting from a language model (None without)."""
    from textmodels.text import TextEncoder

    problem = classifier.problem_option or infer_problem(labels)
    names = label_names(labels, problem)
    classifier.model_kind = chosen_model(classifier, texts)
    language_model = source = vectors_report = transfer_report = None
    if classifier.init_from is not None:
        from textmodels.transfer import fine_tune_language_model, load_language_model, transfer_vocabulary

        language_model, source = load_language_model(classifier.init_from)
        shape = encoder_shape(classifier, language_model, source)
        if classifier.lm_epochs:
            language_model = fine_tune_language_model(language_model, texts, classifier.lm_epochs,
                                                      batch_size=classifier.batch_size, verbose=verbose)
        encoder, coverage, fresh_words = transfer_vocabulary(
            language_model, texts, classifier.encoder_options["min_count"], classifier.encoder_options["max_size"]
        )
    else:
        shape = encoder_shape(classifier)
        ngrams = classifier.ngrams if classifier.model_kind == "bag" else 1
        encoder = TextEncoder.fit(texts, level=shape["level"], ngrams=ngrams, **classifier.encoder_options)
    cap = BAG_LENGTH_CAP if classifier.model_kind == "bag" else DEFAULT_LENGTH_CAP
    encoder.max_length, encoder.truncation = chosen_length(encoder, texts, classifier.max_length, cap)
    embedding_dim = shape["embedding_dim"]
    if classifier.vectors is not None:
        from textmodels.text.vectors import load_vectors

        vectors_report = load_vectors(classifier.vectors, encoder.vocabulary)
        embedding_dim = vectors_report.matrix.shape[1]
    common = dict(
        vocabulary_size=len(encoder.vocabulary), num_labels=len(names), embedding_dim=embedding_dim,
        dropout=classifier.dropout, text_encoder=encoder, label_names=names, problem=problem,
        threshold=classifier.threshold,
    )
    if classifier.model_kind == "textcnn":
        from textmodels.classification.text_cnn import TextCNN

        network = TextCNN(embedding=classifier.embedding, **classifier.cnn_options, **common)
    elif classifier.model_kind == "bag":
        from textmodels.classification.text_bag import TextBag

        network = TextBag(**common)
    else:
        from textmodels.classification.text_rnn import TextRNN

        network = TextRNN(embedding_mode=classifier.embedding, units=shape["units"], cell=shape["cell"],
                          layers=shape["layers"], bidirectional=shape["bidirectional"], **classifier.rnn_options,
                          **common)
    network.build((None, encoder.max_length))
    if vectors_report is not None:
        network.set_embedding_matrix(vectors_report.matrix)
    if language_model is not None:
        transfer_report = _copy_from_language_model(language_model, network, source, coverage, fresh_words)
    loss = "sparse_categorical_crossentropy" if problem == "multiclass" else "binary_crossentropy"
    network.compile(optimizer=_optimizer(classifier, network), loss=loss, metrics=["accuracy"])
    return network, vectors_report, transfer_report


def chosen_model(classifier, texts: Sequence[str]) -> str:
    """``classifier``'s model, ``"auto"`` resolved for ``texts``: ``"bag"`` when the median text has more than
    `LONG_DOCUMENT_WORDS` words (and neither a language model nor word vectors start the network, which a
    TextRNN takes), else ``"textrnn"``.

    Example:
        >>> from textmodels.classification.text_classifier import TextClassifier
        >>> chosen_model(TextClassifier(), ["a short text"] * 3), chosen_model(TextClassifier(), ["word " * 300])
        ('textrnn', 'bag')
    """
    if classifier.model_kind != "auto":
        return classifier.model_kind
    if classifier.init_from is not None or classifier.vectors is not None:
        return "textrnn"
    lengths = [len(text.split()) for text in texts]
    return "bag" if np.median(lengths) > LONG_DOCUMENT_WORDS else "textrnn"


def chosen_length(encoder, texts: Sequence[str], max_length: int | None = None,
                  cap: int = DEFAULT_LENGTH_CAP) -> tuple[int, str]:
    """``(max_length, truncation)`` for a classifier trained on ``texts``: ``max_length`` None takes the longest
    training text, at most ``cap`` tokens. When training texts are longer than that (long
    documents), a long text keeps its first quarter and last three quarters (``"middle"``: a review's verdict
    is often at its end); otherwise (short texts, all kept whole) its head (``"end"``).

    Example:
        >>> from textmodels.text import TextEncoder
        >>> texts = ["a b c", "a b"]
        >>> chosen_length(TextEncoder.fit(texts), texts), chosen_length(TextEncoder.fit(texts), texts, 2)
        ((3, 'end'), (2, 'middle'))
    """
    longest = max(len(encoder.encode_one(text)) for text in texts)
    length = max_length or max(1, min(longest, cap))
    return length, "middle" if longest > length else "end"


def encoder_shape(classifier, language_model=None, source: str = "") -> dict:
    """``classifier``'s encoder shape settings (``level``, ``embedding_dim``, ``units``, ``cell``, ``layers``,
    ``bidirectional``): the given ones, the rest from `DEFAULTS` or from ``language_model`` (loaded from ``source``).

    Example:
        >>> from textmodels.classification.text_classifier import TextClassifier
        >>> encoder_shape(TextClassifier(units=8))["units"]
        8
    """
    requested = dict(classifier.shape_options)
    if language_model is None:
        return {key: getattr(DEFAULTS, key) if value is None else value for key, value in requested.items()}
    from textmodels.transfer import resolve_encoder_settings

    if classifier.model_kind == "textcnn":  # only the embedding transfers to a CNN
        requested = {key: requested[key] for key in ("level", "embedding_dim")}
    settings = resolve_encoder_settings(language_model, source, requested)
    bidirectional = bool(classifier.shape_options["bidirectional"])
    if bidirectional and settings["layers"] > 1:
        raise ConfigurationError(
            f"{source}: a bidirectional network can take a left-to-right language model's weights only into "
            f"its forward direction, which needs one layer; this one has {settings['layers']}. Leave "
            "bidirectional out (a left-to-right network takes every layer)."
        )
    return {**settings, "bidirectional": bidirectional}


def _optimizer(classifier, network):
    from textmodels.training import make_optimizer
    from textmodels.training.layerwise_adam import LayerwiseAdam

    fine_tuning = classifier.fine_tuning
    options = dict(classifier.optimizer_options)
    if classifier.model_kind == "bag" and options["learning_rate"] is None and options["name"] in ("adam", "rmsprop"):
        options["learning_rate"] = BAG_LEARNING_RATE
    if not fine_tuning["gradual_unfreezing"] and fine_tuning["layer_rate_decay"] is None:
        return make_optimizer(**options)
    groups = ["embedding/"]
    if classifier.model_kind == "textrnn":
        groups += [f"{network.recurrent.name}/{layer.name}/" for layer in network.recurrent.recurrent_layers]
    return LayerwiseAdam(groups, **fine_tuning, learning_rate=options["learning_rate"] or 1e-3,
                         global_clipnorm=options["clipnorm"])


def _copy_from_language_model(language_model, network, source: str, coverage: float, fresh_words: int):
    from textmodels.transfer import TransferReport, copy_embedding, copy_recurrent_layers

    copy_embedding(language_model, network.embedding)
    layers = ["embedding"]
    if hasattr(network, "recurrent"):
        layers += copy_recurrent_layers(language_model, network.recurrent)
    return TransferReport(source, tuple(layers), len(network.text_encoder.vocabulary),
                          language_model.vocabulary_size, fresh_words, coverage)
