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
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from textmodels.classification.classifier_network import build_classifier_network
from textmodels.classification.label_encoding import label_targets
from textmodels.classification.labeled_examples import hold_out, texts_and_labels, validation_texts_and_labels
from textmodels.classification.labeled_text_estimator import LabeledTextEstimator, check_settings
from textmodels.classification.prediction import Prediction
from textmodels.classifier_config import DEFAULTS, MODELS
from textmodels.data.bucketed_batches import BucketedBatches
from textmodels.data.labeled_texts import LabeledTexts
from textmodels.errors import (
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


class TextClassifier(LabeledTextEstimator):
    """A TextRNN, TextCNN or bag-of-n-grams text classifier with its preprocessing; binary, multi-class or
    multi-label.

    Every default comes from `textmodels.classifier_config.DEFAULTS`, which ``textmodels train-classifier``
    reads too.

    Args:
        model: ``textrnn``, ``textcnn``, ``bag`` (`TextBag`: the mean embedding of the words and word n-grams,
            fastText) or ``auto`` (the default): ``bag`` when the median training text is longer than
            `textmodels.classifier_config.LONG_DOCUMENT_WORDS` words, else ``textrnn``
            (`classifier_network.chosen_model`); ``model_kind`` holds the choice once `fit` has built the network.
        level, lowercase, min_count, max_vocabulary, max_length: the `TextEncoder` built by `fit`. ``max_length``
            None chooses from the training texts: the longest, at most `classifier_network.DEFAULT_LENGTH_CAP`
            tokens (`classifier_network.BAG_LENGTH_CAP` for ``bag``); when that cuts training texts (long
            documents) a long text keeps its head and tail, else its head (`classifier_network.chosen_length`).
        vectors: a GloVe/word2vec text file for ``embedding`` ``static`` | ``non-static`` | ``multichannel``.
        embedding: ``rand`` (default; with ``init_from``: the pretrained rows, fine-tuned) | ``static`` (the
            pretrained vectors or rows, frozen) | ``non-static`` | ``multichannel`` (TextCNN only).
        embedding_dim: embedding width (ignored with ``vectors``: the file decides).
        units, cell, layers, bidirectional, pooling, k, attention_units, recurrent_dropout,
            embedding_dropout, token_dropout: the `TextRNN`.
        filter_widths, filters: the `TextCNN`.
        ngrams: the longest word n-grams of ``bag`` (`TextEncoder`'s ``ngrams``).
        dropout: before the output layer.
        problem: ``binary`` | ``multiclass`` | ``multilabel``; None infers it from the labels (a list of labels
            per text means multi-label).
        threshold: decision threshold of sigmoid outputs (binary and multi-label).
        optimizer, learning_rate, clipnorm: see `textmodels.training.make_optimizer`.
        batch_size: for training and prediction.
        init_from: a `LanguageModel` or the ``.keras`` file of one (``textmodels train-lm``): the embedding and
            every recurrent layer start from its weights, the vocabulary is its own plus the task's new words
            (`textmodels.transfer`); ``level``, ``embedding_dim``, ``units``, ``cell`` and ``layers`` left at
            None take the language model's, and the network reads left to right (``bidirectional=True``, for
            a one-layer model: the language model's layer becomes the forward direction, the backward one
            starts fresh).
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
        ngrams: int = DEFAULTS.ngrams,
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
            sizes=dict(min_count=min_count, k=k, attention_units=attention_units, filters=filters, ngrams=ngrams,
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
        if model == "bag" and (init_from is not None or vectors is not None or level == "char"):
            raise ConfigurationError(
                "model='bag' learns a row for every word and word n-gram of the task: it takes neither init_from "
                "nor vectors, and reads words, not characters (level='char'); use textrnn for those."
            )
        if init_from is not None and vectors is not None:
            raise ConfigurationError("Start from a language model (init_from) or from word vectors, not both.")
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
        self.ngrams = ngrams
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
        from textmodels.classification.text_bag import TextBag
        from textmodels.classification.text_cnn import TextCNN
        from textmodels.classification.text_rnn import TextRNN

        return [TextRNN, TextCNN, TextBag]

    @classmethod
    def for_network(cls, network) -> TextClassifier:
        from textmodels.classification.text_bag import TextBag
        from textmodels.classification.text_cnn import TextCNN

        return cls({TextCNN: "textcnn", TextBag: "bag"}.get(type(network), "textrnn"))

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

        check("patience", patience, NON_NEGATIVE_INT, optional=True)
        distribution = as_distribution(distribution)
        (texts, labels), validation = hold_out(*texts_and_labels(texts, labels), validation_fraction, validation)
        if self.network is None:
            with distribution.scope():
                self.network, self.vectors_report, self.transfer_report = build_classifier_network(
                    self, texts, labels, verbose)
        batches = BucketedBatches(*self._arrays(texts, labels, "training"), batch_size=self.batch_size)
        validation_batches = None
        if validation is not None:
            validation_arrays = self._arrays(*validation_texts_and_labels(validation), "validation")
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
        """`LabeledTextEstimator.fit_in_run` with ``fit``'s stopping rule: without ``validation``, hold out
        ``validation_fraction`` (stratified, seed 0), stop after ``patience`` epochs without a better val loss.

        Example:
            >>> import os, tempfile
            >>> data = LabeledTexts(["good fun", "great film", "bad plot", "awful plot"] * 5, ["+", "+", "-", "-"] * 5)
            >>> out = os.path.join(tempfile.mkdtemp(), "sentiment.keras")
            >>> trained = TextClassifier(embedding_dim=4, units=4).fit_in_run(data, epochs=2, out=out, verbose=0)
            >>> len(trained.run.state["history"]["val_loss"]), TextClassifier.load(out).label_names
            (2, ['+', '-'])
        """
        (texts, labels), validation = hold_out(*texts_and_labels(data), validation_fraction, validation)
        data = LabeledTexts(texts, labels)
        # The run's callbacks stop early and keep the best epoch; fit must neither hold out nor stop on its own.
        return super().fit_in_run(data, run_dir, validation=validation, patience=patience,
                                  fit_options={"validation_fraction": 0.0, "patience": None}, **options)

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
        return label_targets(labels, network.label_names, network.problem)

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
        `label_encoding.UnknownLabelError` naming it.
        """
        texts, labels = texts_and_labels(texts, labels)
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

