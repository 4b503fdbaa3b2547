"""`TextClassifier`: raw texts in, labels out — vocabulary, label names and Keras model in one object and one
`.keras` file.

Example:
    >>> import tempfile, os
    >>> texts = ["good film", "great fun", "bad film", "dull mess"] * 8
    >>> labels = ["pos", "pos", "neg", "neg"] * 8
    >>> classifier = TextClassifier(embedding_dim=8, units=4)
    >>> _ = classifier.fit(texts, labels, epochs=1, verbose=0)
    >>> classifier.predict(["good fun"])[0].label in ("pos", "neg")
    True
    >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
    >>> classifier.save(path)
    >>> TextClassifier.load(path).label_names
    ['neg', 'pos']
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from textmodels.classification.labeled_text_estimator import LabeledTextEstimator, check_settings
from textmodels.classification.prediction import Prediction
from textmodels.classifier_config import DEFAULTS
from textmodels.data.bucketed_batches import BucketedBatches
from textmodels.data.labeled_texts import LabeledTexts
from textmodels.errors import (
    DROPOUT_RATE,
    NON_NEGATIVE_INT,
    OPEN_FRACTION,
    POSITIVE_INT,
    POSITIVE_NUMBER,
    ConfigurationError,
    DataError,
    check,
    check_all,
)
from textmodels.metrics import classification_report, multilabel_report
from textmodels.training.layerwise_adam import LayerwiseAdam

MODELS = ("textrnn", "textcnn")
# When no max_length is given, the longest training text decides it, up to this many tokens.
DEFAULT_LENGTH_CAP = 500
_MULTI = (list, tuple, set, frozenset)


class UnknownLabelError(DataError):
    """A label the model was not trained on.

    Example:
        >>> isinstance(UnknownLabelError("Label 'meh' was not seen in training"), ValueError)
        True
    """


class TextClassifier(LabeledTextEstimator):
    """A TextRNN or TextCNN text classifier with its preprocessing; binary, multi-class or multi-label.

    Every default comes from `textmodels.classifier_config.DEFAULTS`, which ``textmodels train-classifier``
    reads too.

    Args:
        model: ``textrnn`` or ``textcnn``.
        level, lowercase, min_count, max_vocabulary, max_length: the `TextEncoder` built by `fit`. ``max_length``
            None chooses from the training texts: the longest, at most `DEFAULT_LENGTH_CAP` tokens; when that
            cuts training texts (long documents) a long text keeps its head and tail, else its head
            (`chosen_length`).
        vectors: a GloVe/word2vec text file for ``embedding`` ``static`` | ``non-static`` | ``multichannel``.
        embedding: ``rand`` (default; with ``init_from``: the pretrained rows, fine-tuned) | ``static`` (the
            pretrained vectors or rows, frozen) | ``non-static`` | ``multichannel`` (TextCNN only).
        embedding_dim: embedding width (ignored with ``vectors``: the file decides).
        units, cell, layers, bidirectional, pooling, k, attention_units, recurrent_dropout,
            embedding_dropout, token_dropout: the `TextRNN`.
        filter_widths, filters: the `TextCNN`.
        dropout: before the output layer.
        problem: ``binary`` | ``multiclass`` | ``multilabel``; None infers it from the labels (a list of labels
            per text means multi-label).
        threshold: decision threshold of sigmoid outputs (binary and multi-label).
        optimizer, learning_rate, clipnorm: see `textmodels.training.make_optimizer`.
        batch_size: for training and prediction.
        init_from: a `LanguageModel` or the ``.keras`` file of one (``textmodels train-lm``): the embedding and
            every recurrent layer start from its weights, the vocabulary is its own plus the task's new words
            (`textmodels.transfer`); ``level``, ``embedding_dim``, ``units``, ``cell`` and ``layers`` left at
            None take the language model's, and the network reads left to right.
        lm_epochs: with ``init_from``, first train the language model this many epochs on the training texts.
        gradual_unfreezing, layer_rate_decay: ULMFiT's fine-tuning (`textmodels.training.LayerwiseAdam`):
            unfreeze one layer group per epoch from the top; each group learns ``layer_rate_decay`` times slower
            than the one above (Adam only).

    The encoder's shape settings default to None: `DEFAULTS`' values, or the language model's with
    ``init_from`` (an explicit value that differs from the language model's is a `ConfigurationError`
    naming both).
    """

    what = "text classifier"

    def __init__(
        self,
        model: str = DEFAULTS.model,
        *,
        level: str | None = None,
        lowercase: bool | None = DEFAULTS.lowercase,
        min_count: int = DEFAULTS.min_count,
        max_vocabulary: int | None = DEFAULTS.max_vocabulary,
        max_length: int | None = DEFAULTS.max_length,
        vectors: str | Path | None = None,
        embedding: str = "rand",
        embedding_dim: int | None = None,
        units: int | None = None,
        cell: str | None = None,
        layers: int | None = None,
        bidirectional: bool | None = None,
        pooling: str = DEFAULTS.pooling,
        k: int = DEFAULTS.k,
        attention_units: int = DEFAULTS.attention_units,
        recurrent_dropout: float = DEFAULTS.recurrent_dropout,
        embedding_dropout: float = DEFAULTS.embedding_dropout,
        token_dropout: float = DEFAULTS.token_dropout,
        filter_widths: Sequence[int] = DEFAULTS.filter_widths,
        filters: int = DEFAULTS.filters,
        dropout: float = DEFAULTS.dropout,
        problem: str | None = DEFAULTS.problem,
        threshold: float = DEFAULTS.threshold,
        optimizer: str = DEFAULTS.optimizer,
        learning_rate: float | None = DEFAULTS.learning_rate,
        clipnorm: float | None = DEFAULTS.clipnorm,
        batch_size: int = DEFAULTS.batch_size,
        init_from=None,
        lm_epochs: int = DEFAULTS.lm_epochs,
        gradual_unfreezing: bool = DEFAULTS.gradual_unfreezing,
        layer_rate_decay: float | None = DEFAULTS.layer_rate_decay,
    ):
        if model not in MODELS:
            raise ConfigurationError(f"Unknown model {model!r}; choose one of {', '.join(MODELS)}.")
        check_settings(
            sizes=dict(min_count=min_count, k=k, attention_units=attention_units, filters=filters,
                       batch_size=batch_size),
            optional_sizes=dict(max_vocabulary=max_vocabulary, max_length=max_length, embedding_dim=embedding_dim,
                                units=units, layers=layers),
            dropout_rates=dict(recurrent_dropout=recurrent_dropout, embedding_dropout=embedding_dropout,
                               token_dropout=token_dropout, dropout=dropout),
            learning_rate=learning_rate, clipnorm=clipnorm,
        )
        check_all(POSITIVE_INT, **{f"filter_widths[{index}]": width for index, width in enumerate(filter_widths)})
        check_all(NON_NEGATIVE_INT, lm_epochs=lm_epochs)
        check("threshold", threshold, OPEN_FRACTION)
        if embedding != "rand" and vectors is None and init_from is None:
            raise ConfigurationError(
                f"embedding={embedding!r} needs pretrained vectors (vectors=... or init_from=...)."
            )
        if embedding == "multichannel" and model != "textcnn":
            raise ConfigurationError(
                "embedding='multichannel' is a TextCNN option; TextRNN takes rand, static or non-static."
            )
        if init_from is not None and vectors is not None:
            raise ConfigurationError("Start from a language model (init_from) or from word vectors, not both.")
        if init_from is not None and bidirectional:
            raise ConfigurationError(
                "A language model reads left to right, so its recurrent weights fit a unidirectional network; "
                "leave bidirectional out (or False) with init_from."
            )
        if init_from is None and lm_epochs:
            raise ConfigurationError("lm_epochs fine-tunes the language model of init_from; give init_from too.")
        if layer_rate_decay is not None:
            check("layer_rate_decay", layer_rate_decay, POSITIVE_NUMBER)
        if (gradual_unfreezing or layer_rate_decay is not None) and optimizer != "adam":
            raise ConfigurationError(
                f"gradual_unfreezing and layer_rate_decay use per-layer Adam; optimizer={optimizer!r} has no such "
                "variant."
            )
        if vectors is not None and embedding == "rand":
            embedding = "non-static"
        self.model_kind = model
        self.encoder_options = dict(lowercase=lowercase, min_count=min_count, max_size=max_vocabulary)
        self.shape_options = dict(level=level, embedding_dim=embedding_dim, units=units, cell=cell, layers=layers,
                                  bidirectional=bidirectional)
        self.max_length = max_length
        self.vectors = vectors
        self.embedding = embedding
        self.rnn_options = dict(
            pooling=pooling, k=k, attention_units=attention_units, recurrent_dropout=recurrent_dropout,
            embedding_dropout=embedding_dropout, token_dropout=token_dropout,
        )
        self.cnn_options = dict(filter_widths=tuple(filter_widths), filters=filters)
        self.dropout = dropout
        self.problem_option = problem
        self.threshold = threshold
        self.optimizer_options = dict(name=optimizer, learning_rate=learning_rate, clipnorm=clipnorm)
        self.fine_tuning = dict(gradual_unfreezing=gradual_unfreezing, layer_rate_decay=layer_rate_decay)
        self.init_from = init_from
        self.lm_epochs = lm_epochs
        self.batch_size = batch_size
        self.network = None
        self.vectors_report = None
        self.transfer_report = None

    # --- the trained state -------------------------------------------------------------------------------------

    @classmethod
    def network_classes(cls) -> list[type]:
        from textmodels.classification.text_cnn import TextCNN
        from textmodels.classification.text_rnn import TextRNN

        return [TextRNN, TextCNN]

    @classmethod
    def for_network(cls, network) -> TextClassifier:
        from textmodels.classification.text_cnn import TextCNN

        return cls("textcnn" if isinstance(network, TextCNN) else "textrnn")

    @property
    def label_names(self) -> list[str]:
        return list(self._require_network().label_names)

    @property
    def problem(self) -> str:
        return self._require_network().problem

    @property
    def text_encoder(self):
        return self._require_network().text_encoder

    # --- training ----------------------------------------------------------------------------------------------

    def fit(
        self,
        texts: Sequence[str] | LabeledTexts,
        labels: Sequence | None = None,
        validation: LabeledTexts | tuple[Sequence[str], Sequence] | None = None,
        epochs: int = DEFAULTS.epochs,
        patience: int | None = DEFAULTS.patience,
        validation_fraction: float = DEFAULTS.validation_fraction,
        callbacks: Sequence = (),
        initial_epoch: int = 0,
        verbose="auto",
        distribution=None,
    ):
        """Trains on ``texts`` and ``labels`` (or one `LabeledTexts`); builds the vocabulary and the network on
        the first call, continues training on later ones. Batches group texts of similar length (see
        `BucketedBatches`). Texts with no tokens are skipped with a warning. ``distribution``: a
        `textmodels.training.distribution.Distribution` or its name (``"mirrored"``, ...); ``batch_size`` is then
        the global batch, split over the replicas.

        The stopping rule: without ``validation``, ``validation_fraction`` of the examples is held out (stratified
        by label, seed 0; 0 holds out nothing); with validation data, training stops after ``patience`` epochs
        without a better validation loss and keeps the best epoch's weights (None: train all ``epochs``; an
        ``EarlyStopping`` among ``callbacks`` replaces this one).

        Returns the Keras ``History``.
        """
        import keras

        from textmodels.training.distribution import as_distribution
        from textmodels.training.layer_rate_schedule import LayerRateSchedule

        check("validation_fraction", validation_fraction, DROPOUT_RATE)
        check("patience", patience, NON_NEGATIVE_INT, optional=True)
        distribution = as_distribution(distribution)
        texts, labels = _unpack(texts, labels)
        if validation is None and validation_fraction > 0:
            (texts, labels), validation = hold_out(texts, labels, validation_fraction)
        if self.network is None:
            with distribution.scope():
                self.network = self._build_network(texts, labels, verbose)
        batches = BucketedBatches(*self._arrays(texts, labels, "training"), batch_size=self.batch_size)
        validation_batches = None
        if validation is not None:
            validation_arrays = self._arrays(*_unpack(*_validation_pair(validation)), "validation")
            validation_batches = BucketedBatches(*validation_arrays, batch_size=self.batch_size, shuffle=False)
        callbacks = list(callbacks)
        if isinstance(self.network.optimizer, LayerwiseAdam):
            callbacks.append(LayerRateSchedule())
        stopping = any(isinstance(callback, keras.callbacks.EarlyStopping) for callback in callbacks)
        if validation_batches is not None and patience and not stopping:
            callbacks.append(keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True))
        # shuffle=False: BucketedBatches reshuffles itself every epoch from its seed. Keras would also shuffle the
        # batch order with Python's global random, which a distributed fit draws from once more (its symbolic
        # build), so one device and several would see different batches.
        return distribution.fit(
            self.network, batches, epochs=epochs, validation_data=validation_batches, callbacks=callbacks,
            initial_epoch=initial_epoch, verbose=verbose, shuffle=False,
        )

    def fit_in_run(self, data: LabeledTexts, run_dir: str | Path | None = None, *, validation=None,
                   validation_fraction: float = DEFAULTS.validation_fraction, patience: int | None = DEFAULTS.patience,
                   **options):
        """`LabeledTextEstimator.fit_in_run` with ``fit``'s stopping rule: without ``validation``,
        ``validation_fraction`` of ``data`` is held out (stratified by label, seed 0; 0 holds out nothing), and
        the run stops after ``patience`` epochs without a better validation loss (None: never).

        Example:
            >>> import os, tempfile
            >>> texts = ["good fun", "great film", "bad plot", "awful acting"] * 5
            >>> data = LabeledTexts(texts, ["pos", "pos", "neg", "neg"] * 5)
            >>> out = os.path.join(tempfile.mkdtemp(), "sentiment.keras")
            >>> trained = TextClassifier(embedding_dim=4, units=4).fit_in_run(data, epochs=2, out=out, verbose=0)
            >>> len(trained.run.state["history"]["val_loss"]), TextClassifier.load(out).label_names
            (2, ['neg', 'pos'])
        """
        check("validation_fraction", validation_fraction, DROPOUT_RATE)
        if validation is None and validation_fraction > 0:
            (texts, labels), validation = hold_out(*_unpack(data, None), validation_fraction)
            data = LabeledTexts(texts, labels)
        # The run's callbacks stop early and keep the best epoch; fit must neither hold out nor stop on its own.
        return super().fit_in_run(data, run_dir, validation=validation, patience=patience,
                                  fit_options={"validation_fraction": 0.0, "patience": None}, **options)

    def _encoder_shape(self, language_model=None, source: str = "") -> dict:
        """The encoder's shape settings: the given ones, the rest from `DEFAULTS` or ``language_model``."""
        requested = dict(self.shape_options)
        if language_model is None:
            return {key: getattr(DEFAULTS, key) if value is None else value for key, value in requested.items()}
        from textmodels.transfer import resolve_encoder_settings

        if self.model_kind == "textcnn":  # only the embedding transfers to a CNN
            requested = {key: requested[key] for key in ("level", "embedding_dim")}
        settings = resolve_encoder_settings(language_model, source, requested)
        return {**settings, "bidirectional": False}

    def _build_network(self, texts: list[str], labels: list, verbose="auto"):
        from textmodels.text import TextEncoder

        problem = self.problem_option or _infer_problem(labels)
        label_names = _label_names(labels, problem)
        language_model = source = None
        if self.init_from is not None:
            from textmodels.transfer import fine_tune_language_model, load_language_model, transfer_vocabulary

            language_model, source = load_language_model(self.init_from)
            shape = self._encoder_shape(language_model, source)
            if self.lm_epochs:
                language_model = fine_tune_language_model(language_model, texts, self.lm_epochs,
                                                          batch_size=self.batch_size, verbose=verbose)
            encoder, coverage, fresh_words = transfer_vocabulary(
                language_model, texts, self.encoder_options["min_count"], self.encoder_options["max_size"]
            )
        else:
            shape = self._encoder_shape()
            encoder = TextEncoder.fit(texts, level=shape["level"], **self.encoder_options)
        encoder.max_length, encoder.truncation = chosen_length(encoder, texts, self.max_length)
        matrix = None
        embedding_dim = shape["embedding_dim"]
        if self.vectors is not None:
            from textmodels.text.vectors import load_vectors

            self.vectors_report = load_vectors(self.vectors, encoder.vocabulary)
            matrix = self.vectors_report.matrix
            embedding_dim = matrix.shape[1]
        common = dict(
            vocabulary_size=len(encoder.vocabulary), num_labels=len(label_names), embedding_dim=embedding_dim,
            dropout=self.dropout, text_encoder=encoder, label_names=label_names, problem=problem,
            threshold=self.threshold,
        )
        if self.model_kind == "textcnn":
            from textmodels.classification.text_cnn import TextCNN

            network = TextCNN(embedding=self.embedding, **self.cnn_options, **common)
        else:
            from textmodels.classification.text_rnn import TextRNN

            network = TextRNN(embedding_mode=self.embedding, units=shape["units"], cell=shape["cell"],
                              layers=shape["layers"], bidirectional=shape["bidirectional"], **self.rnn_options,
                              **common)
        network.build((None, encoder.max_length))
        if matrix is not None:
            network.set_embedding_matrix(matrix)
        if language_model is not None:
            self.transfer_report = _copy_from_language_model(language_model, network, source, coverage,
                                                             fresh_words)
        loss = "sparse_categorical_crossentropy" if problem == "multiclass" else "binary_crossentropy"
        network.compile(optimizer=self._optimizer(network), loss=loss, metrics=["accuracy"])
        return network

    def _optimizer(self, network):
        from textmodels.training import make_optimizer

        if not self.fine_tuning["gradual_unfreezing"] and self.fine_tuning["layer_rate_decay"] is None:
            return make_optimizer(**self.optimizer_options)
        groups = ["embedding/"]
        if self.model_kind == "textrnn":
            groups += [f"{network.recurrent.name}/{layer.name}/" for layer in network.recurrent.recurrent_layers]
        options = self.optimizer_options
        return LayerwiseAdam(groups, **self.fine_tuning, learning_rate=options["learning_rate"] or 1e-3,
                             global_clipnorm=options["clipnorm"])

    def _arrays(self, texts: list[str], labels: list, role: str) -> tuple[np.ndarray, np.ndarray]:
        ids = self.text_encoder.encode(texts)
        keep = ids.any(axis=1)
        if not keep.all():
            warnings.warn(f"Skipping {int((~keep).sum())} {role} text(s) with no tokens.", stacklevel=3)
        if not keep.any():
            raise DataError(f"None of the {len(texts)} {role} texts has any tokens.")
        targets = self._targets(labels)
        return ids[keep], targets[keep]

    def _targets(self, labels: list) -> np.ndarray:
        network = self._require_network()
        index = {name: position for position, name in enumerate(network.label_names)}

        def lookup(label, position):
            if label not in index:
                raise UnknownLabelError(
                    f"Label {label!r} (example #{position}) was not seen in training; the model knows "
                    f"{list(network.label_names)}."
                )
            return index[label]

        if network.problem == "multilabel":
            targets = np.zeros((len(labels), len(index)), dtype="float32")
            for position, label_set in enumerate(labels):
                for label in _as_label_set(label_set, position):
                    targets[position, lookup(label, position)] = 1.0
            return targets
        for position, label in enumerate(labels):
            if isinstance(label, _MULTI):
                raise DataError(f"Example #{position} has several labels {list(label)}, but this is a "
                                 f"{network.problem} classifier.")
        ids = np.array([lookup(str(label), position) for position, label in enumerate(labels)], dtype="int32")
        return ids.astype("float32")[:, None] if network.problem == "binary" else ids

    # --- prediction --------------------------------------------------------------------------------------------

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), len(label_names))`` probabilities; rows of texts without tokens are NaN."""
        if isinstance(texts, str):
            raise TypeError("predict_proba() takes a list of texts; wrap a single text in a list.")
        network = self._require_network()
        ids = self.text_encoder.encode(list(texts)) if len(texts) else np.zeros((0, 1), "int32")
        valid = ids.any(axis=1)
        out = np.full((len(texts), len(network.label_names)), np.nan, dtype="float32")
        if valid.any():
            # Fully padded rows never reach the network: cuDNN rejects them on a GPU.
            raw = network.predict(ids[valid], batch_size=self.batch_size, verbose=0)
            out[valid] = np.concatenate([1.0 - raw, raw], axis=1) if network.problem == "binary" else raw
        return out

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """One `Prediction` per text. A text with no tokens (e.g. ``""``) gets ``label=None`` and an ``error``
        instead of a guess."""
        network = self._require_network()
        names = list(network.label_names)
        results = []
        for text, row in zip(texts, self.predict_proba(texts)):
            if np.isnan(row).any():
                results.append(Prediction(text, None, None, {}, "empty text: no tokens to classify"))
                continue
            probabilities = {name: float(p) for name, p in zip(names, row)}
            if network.problem == "multilabel":
                chosen = [name for name, p in zip(names, row) if p >= network.threshold]
                results.append(Prediction(text, chosen, float(row.max()), probabilities))
            elif network.problem == "binary":
                best = 1 if row[1] >= network.threshold else 0
                results.append(Prediction(text, names[best], float(row[best]), probabilities))
            else:
                best = int(np.argmax(row))
                results.append(Prediction(text, names[best], float(row[best]), probabilities))
        return results

    def explain(self, text: str) -> list[tuple[str, float]]:
        """Each token of ``text`` (as the model saw it, after truncation) with its attention weight; the
        weights sum to 1. Needs a TextRNN with ``pooling="attention"``.

        Example:
            >>> classifier = TextClassifier(pooling="attention", embedding_dim=8, units=4)
            >>> _ = classifier.fit(["good film", "bad film"] * 4, ["pos", "neg"] * 4, epochs=1, verbose=0)
            >>> [token for token, _ in classifier.explain("good film indeed")]  # max_length: 2 tokens
            ['good', 'film']
        """
        network = self._require_network()
        if getattr(network, "pooling_mode", None) != "attention":
            raise ValueError("explain() needs a TextRNN trained with pooling='attention'.")
        tokens = self.text_encoder.truncated(self.text_encoder.tokenizer.tokenize(text))
        if not tokens:
            raise DataError("Cannot explain an empty text: it has no tokens.")
        weights = network.attention_weights(self.text_encoder.encode([text]))[0]
        return [(token, float(weight)) for token, weight in zip(tokens, weights)]

    # --- evaluation --------------------------------------------------------------------------------------------

    def evaluate(self, texts: Sequence[str] | LabeledTexts, labels: Sequence | None = None) -> dict:
        """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix (see
        `textmodels.metrics.classification_report`); multi-label problems get `multilabel_report`.

        Texts with no tokens are left out and counted in ``skipped_empty``. A label the model never saw raises
        `UnknownLabelError` naming it.
        """
        texts, labels = _unpack(texts, labels)
        network = self._require_network()
        targets = self._targets(labels)
        probabilities = self.predict_proba(texts)
        valid = ~np.isnan(probabilities).any(axis=1)
        if not valid.any():
            raise DataError("None of the evaluation texts has any tokens.")
        probabilities, targets = probabilities[valid], targets[valid]
        names = list(network.label_names)
        if network.problem == "multilabel":
            report = multilabel_report(targets.astype(int), (probabilities >= network.threshold).astype(int), names)
        else:
            if network.problem == "binary":
                predicted = (probabilities[:, 1] >= network.threshold).astype(int)
                truth = targets[:, 0].astype(int)
            else:
                predicted, truth = probabilities.argmax(axis=1), targets
            report = classification_report(truth, predicted, names)
        report["skipped_empty"] = int((~valid).sum())
        return report


def _unpack(texts, labels) -> tuple[list[str], list]:
    if isinstance(texts, LabeledTexts):
        if labels is not None:
            raise ValueError("Pass either a LabeledTexts or texts and labels, not both.")
        return list(texts.texts), list(texts.labels)
    if labels is None:
        raise ValueError("labels are required (or pass one LabeledTexts).")
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, not one string.")
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise ValueError(f"Got {len(texts)} texts but {len(labels)} labels.")
    if not texts:
        raise ValueError("No examples given.")
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"Text #{position} is {type(text).__name__}, not str.")
    return texts, labels


def _validation_pair(validation):
    if isinstance(validation, LabeledTexts):
        return validation, None
    if isinstance(validation, tuple) and len(validation) == 2:
        return validation
    raise TypeError("validation must be a LabeledTexts or a (texts, labels) tuple.")


def _as_label_set(labels, position: int) -> list[str]:
    if isinstance(labels, str):
        return [labels]
    if not isinstance(labels, _MULTI):
        raise TypeError(f"Example #{position}: multi-label targets must be lists of labels, got {labels!r}.")
    return [str(label) for label in labels]


def _infer_problem(labels: list) -> str:
    if any(isinstance(label, _MULTI) for label in labels):
        return "multilabel"
    return "binary" if len({str(label) for label in labels}) == 2 else "multiclass"


def _label_names(labels: Iterable, problem: str) -> list[str]:
    if problem == "multilabel":
        names = sorted({name for position, label in enumerate(labels) for name in _as_label_set(label, position)})
    else:
        names = sorted({str(label) for label in labels})
    if problem == "binary" and len(names) != 2:
        raise DataError(f"problem='binary' needs exactly 2 distinct labels, found {len(names)}: {names[:10]}.")
    if problem == "multiclass" and len(names) < 2:
        raise DataError(f"Training needs at least 2 distinct labels, found {names}.")
    if problem == "multilabel" and not names:
        raise DataError("The multi-label targets name no labels at all.")
    return names


def hold_out(texts: list[str], labels: list, fraction: float, seed: int = 0):
    """``((train texts, train labels), (validation texts, validation labels) or None)``: ``fraction`` of the
    examples held out, stratified by label (single-label problems), seeded; None when that leaves no example.

    Example:
        >>> (train, validation) = hold_out(["a", "b", "c", "d"] * 5, ["x", "y"] * 10, 0.2)
        >>> len(train[0]), len(validation[0]), sorted(set(validation[1]))
        (16, 4, ['x', 'y'])
    """
    from textmodels.data.splits import train_val_test_split

    stratify = None if any(isinstance(label, _MULTI) for label in labels) else [str(label) for label in labels]
    train_ids, val_ids, _ = train_val_test_split(len(texts), (1 - fraction, fraction, 0.0), seed=seed,
                                                 stratify_labels=stratify)
    if not len(val_ids) or not len(train_ids):
        return (texts, labels), None
    return ([texts[i] for i in train_ids], [labels[i] for i in train_ids]), \
        ([texts[i] for i in val_ids], [labels[i] for i in val_ids])


def chosen_length(encoder, texts: Sequence[str], max_length: int | None = None) -> tuple[int, str]:
    """``(max_length, truncation)`` for a classifier trained on ``texts``: ``max_length`` None takes the longest
    training text, at most `DEFAULT_LENGTH_CAP` tokens. When training texts are longer than that (long
    documents), a long text keeps its first quarter and last three quarters (``"middle"``: a review's verdict
    is often at its end); otherwise (short texts, all kept whole) its head (``"end"``).

    Example:
        >>> from textmodels.text import TextEncoder
        >>> texts = ["a b c", "a b"]
        >>> chosen_length(TextEncoder.fit(texts), texts), chosen_length(TextEncoder.fit(texts), texts, 2)
        ((3, 'end'), (2, 'middle'))
    """
    longest = max(len(encoder.encode_one(text)) for text in texts)
    length = max_length or max(1, min(longest, DEFAULT_LENGTH_CAP))
    return length, "middle" if longest > length else "end"


def _copy_from_language_model(language_model, network, source: str, coverage: float, fresh_words: int):
    from textmodels.transfer import TransferReport, copy_embedding, copy_recurrent_layers

    copy_embedding(language_model, network.embedding)
    layers = ["embedding"]
    if hasattr(network, "recurrent"):
        layers += copy_recurrent_layers(language_model, network.recurrent)
    return TransferReport(source, tuple(layers), len(network.text_encoder.vocabulary),
                          language_model.vocabulary_size, fresh_words, coverage)
