"""`SequenceTagger`: tagged sentences in, a part-of-speech (or any per-token) tagger out, saved as one `.keras`
file; padding is excluded from the loss, the accuracy and every reported metric.

Example:
    >>> sentences = [[("The", "DT"), ("dog", "NN"), ("runs", "VBZ")],
    ...              [("A", "DT"), ("cat", "NN"), ("sleeps", "VBZ")]] * 8
    >>> tagger = SequenceTagger(embedding_dim=8, units=4)
    >>> _ = tagger.fit(sentences, epochs=1, verbose=0)
    >>> [token for token, _ in tagger.tag(["The cat runs"])[0]]
    ['The', 'cat', 'runs']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from textmodels.classification.labeled_text_estimator import LabeledTextEstimator, check_settings
from textmodels.data.bucketed_batches import BucketedBatches
from textmodels.errors import DataError
from textmodels.metrics import classification_report
from textmodels.tagging.config import TAGGER_DEFAULTS

TaggedSentence = Sequence[tuple[str, str]]



class SequenceTagger(LabeledTextEstimator):
    """A bidirectional recurrent tagger (`RecurrentTagger`) with its `TokenFeatures`.

    Args:
        embedding_dim, suffix_dim, shape_dim: embedding widths of word, suffix and word-shape features
            (``embedding_dim`` None: ``TAGGER_DEFAULTS.embedding_dim``, or the language model's with ``init_from``).
        units, cell, layers, dropout: the bidirectional recurrent block.
        min_count: words (and suffixes) seen fewer times become ``<unk>``, which teaches the model unknown words.
        suffix_length: characters in the suffix feature.
        max_length: longer sentences are truncated (None: no limit).
        optimizer, learning_rate, clipnorm, batch_size: training.
        init_from: a word-level `LanguageModel` or its ``.keras`` file: the word embedding starts from its rows,
            the vocabulary is its own plus the training words it lacks (`textmodels.transfer`; the recurrent
            block reads word, suffix and shape vectors, so it does not transfer). ``transfer_report`` says what
            was copied.

    Every default is `textmodels.tagging.config.TAGGER_DEFAULTS`' (``textmodels train-tagger`` uses them too).
    """

    what = "sequence tagger"

    def __init__(
        self,
        embedding_dim: int | None = None,
        suffix_dim: int = TAGGER_DEFAULTS.suffix_dim,
        shape_dim: int = TAGGER_DEFAULTS.shape_dim,
        units: int = TAGGER_DEFAULTS.units,
        cell: str = TAGGER_DEFAULTS.cell,
        layers: int = TAGGER_DEFAULTS.layers,
        dropout: float = TAGGER_DEFAULTS.dropout,
        min_count: int = TAGGER_DEFAULTS.min_count,
        suffix_length: int = TAGGER_DEFAULTS.suffix_length,
        max_length: int | None = TAGGER_DEFAULTS.max_length,
        optimizer: str = TAGGER_DEFAULTS.optimizer,
        learning_rate: float | None = TAGGER_DEFAULTS.learning_rate,
        clipnorm: float | None = TAGGER_DEFAULTS.clipnorm,
        batch_size: int = TAGGER_DEFAULTS.batch_size,
        init_from=None,
    ):
        check_settings(
            sizes=dict(suffix_dim=suffix_dim, shape_dim=shape_dim, units=units, layers=layers, min_count=min_count,
                       suffix_length=suffix_length, batch_size=batch_size),
            optional_sizes=dict(max_length=max_length, embedding_dim=embedding_dim),
            dropout_rates=dict(dropout=dropout),
            learning_rate=learning_rate, clipnorm=clipnorm,
        )
        self.network_options = dict(
            embedding_dim=embedding_dim, suffix_dim=suffix_dim, shape_dim=shape_dim, units=units, cell=cell,
            layers=layers, dropout=dropout,
        )
        self.feature_options = dict(min_count=min_count, suffix_length=suffix_length, max_length=max_length)
        self.optimizer_options = dict(name=optimizer, learning_rate=learning_rate, clipnorm=clipnorm)
        self.batch_size = batch_size
        self.init_from = init_from
        self.network = None
        self.transfer_report = None

    @classmethod
    def network_classes(cls) -> list[type]:
        from textmodels.tagging.recurrent_tagger import RecurrentTagger

        return [RecurrentTagger]

    @property
    def tag_names(self) -> list[str]:
        return list(self._require_network().label_names)

    @property
    def features(self):
        return self._require_network().text_encoder

    def fit(
        self,
        sentences: Sequence[TaggedSentence],
        validation: Sequence[TaggedSentence] | None = None,
        epochs: int = TAGGER_DEFAULTS.epochs,
        callbacks: Sequence = (),
        initial_epoch: int = 0,
        verbose="auto",
        distribution=None,
    ):
        """Trains on (word, tag) sentences; builds vocabularies and network on the first call. Returns History.
        ``distribution``: as in `TextClassifier.fit` (``batch_size`` is the global batch)."""
        from textmodels.training.distribution import as_distribution

        distribution = as_distribution(distribution)
        sentences = _check_sentences(sentences, "training")
        if self.network is None:
            with distribution.scope():
                self.network = self._build_network(sentences)
        x, y = self.arrays(sentences)
        batches = BucketedBatches(x, y, batch_size=self.batch_size, token_weights=True)
        validation_batches = None
        if validation is not None:
            x, y = self.arrays(_check_sentences(validation, "validation"))
            validation_batches = BucketedBatches(x, y, batch_size=self.batch_size, token_weights=True, shuffle=False)
        # shuffle=False: BucketedBatches reshuffles itself every epoch from its seed. Keras would also shuffle the
        # batch order with Python's global random, which a distributed fit draws from once more (its symbolic
        # build), so one device and several would see different batches.
        return distribution.fit(
            self.network, batches, epochs=epochs, validation_data=validation_batches, callbacks=list(callbacks),
            initial_epoch=initial_epoch, verbose=verbose, shuffle=False,
        )

    def _build_network(self, sentences):
        from textmodels.tagging.recurrent_tagger import RecurrentTagger
        from textmodels.tagging.token_features import TokenFeatures
        from textmodels.training import make_optimizer

        features = TokenFeatures.fit(([word for word, _ in s] for s in sentences), **self.feature_options)
        tags = sorted({tag for sentence in sentences for _, tag in sentence})
        network_options = dict(self.network_options)
        language_model = None
        if self.init_from is not None:
            from textmodels.transfer import extended_vocabulary, load_language_model, resolve_encoder_settings

            language_model, source = load_language_model(self.init_from)
            settings = resolve_encoder_settings(
                language_model, source, {"level": "word", "embedding_dim": network_options["embedding_dim"]},
                what="tagger",
            )
            network_options["embedding_dim"] = settings["embedding_dim"]
            words = Counter(word.lower() if features.lowercase else word for s in sentences for word, _ in s)
            features.words, coverage, fresh_words = extended_vocabulary(
                language_model, words, self.feature_options["min_count"]
            )
        network_options["embedding_dim"] = network_options["embedding_dim"] or TAGGER_DEFAULTS.embedding_dim
        network = RecurrentTagger(
            len(features.words), len(features.suffixes), features.num_shapes, len(tags),
            text_encoder=features, label_names=tags, **network_options,
        )
        network.build((None, None, 3))
        if language_model is not None:
            from textmodels.transfer import TransferReport, copy_embedding

            copy_embedding(language_model, network.word_embedding)
            self.transfer_report = TransferReport(source, ("word_embedding",), len(features.words),
                                                  language_model.vocabulary_size, fresh_words, coverage)
        # Per-token sample weights (0 on padding, see BucketedBatches) keep padding out of the loss and accuracy.
        network.compile(
            optimizer=make_optimizer(**self.optimizer_options),
            loss="sparse_categorical_crossentropy",
            weighted_metrics=["accuracy"],
        )
        return network

    def arrays(self, sentences: Sequence[TaggedSentence]) -> tuple[np.ndarray, np.ndarray]:
        """(features, tag ids), post-padded; training batches weight padding 0. Unknown tags raise."""
        network = self._require_network()
        index = {tag: position for position, tag in enumerate(network.label_names)}
        x = self.features.encode([[word for word, _ in sentence] for sentence in sentences])
        y = np.zeros(x.shape[:2], dtype="int32")
        for row, sentence in enumerate(sentences):
            for column, (word, tag) in enumerate(list(sentence)[: x.shape[1]]):
                if tag not in index:
                    raise DataError(
                        f"Sentence #{row}, token {column} ({word!r}): tag {tag!r} was not seen in training."
                    )
                y[row, column] = index[tag]
        return x, y

    def predict_tags(self, token_lists: Sequence[Sequence[str]]) -> list[list[str]]:
        """The tag of every token (an empty token list gives an empty tag list)."""
        network = self._require_network()
        token_lists = [list(tokens) for tokens in token_lists]
        tags: list[list[str]] = [[] for _ in token_lists]
        rows = [i for i, tokens in enumerate(token_lists) if tokens]
        if rows:
            x = self.features.encode([token_lists[i] for i in rows])
            best = network.predict(x, batch_size=self.batch_size, verbose=0).argmax(axis=-1)
            for row, i in enumerate(rows):
                length = min(len(token_lists[i]), x.shape[1])
                tags[i] = [network.label_names[t] for t in best[row, :length]]
        return tags

    def tag(self, texts: Sequence[str]) -> list[list[tuple[str, str]]]:
        """Tokenises raw texts (Treebank conventions) and tags them: ``[[(token, tag), ...], ...]``."""
        if isinstance(texts, str):
            raise TypeError("tag() takes a list of texts; wrap a single text in a list.")
        token_lists = [self.features.tokenize(text) for text in texts]
        return [list(zip(tokens, tags)) for tokens, tags in zip(token_lists, self.predict_tags(token_lists))]

    def evaluate(self, sentences: Sequence[TaggedSentence]) -> dict:
        """Token accuracy over real tokens only, macro-F1 and per-tag precision/recall (see
        `classification_report`), plus accuracy on words outside the training vocabulary.

        A gold tag the model never saw in training cannot be predicted: it counts as an error and is listed
        under ``unseen_tags`` (with its count) rather than stopping the evaluation.
        """
        sentences = _check_sentences(sentences, "evaluation")
        names = list(self._require_network().label_names)
        index = {tag: position for position, tag in enumerate(names)}
        predicted = self.predict_tags([[word for word, _ in s] for s in sentences])
        truth, guesses, unknown, unseen = [], [], [], {}
        for sentence, tags in zip(sentences, predicted):
            for (word, tag), guess in zip(sentence, tags):
                if tag not in index:
                    index[tag] = len(names)
                    names.append(tag)
                    unseen[tag] = 0
                if tag in unseen:
                    unseen[tag] += 1
                truth.append(index[tag])
                guesses.append(index[guess])
                unknown.append((word.lower() if self.features.lowercase else word) not in self.features.words)
        truth, guesses, unknown = np.array(truth), np.array(guesses), np.array(unknown)
        report = classification_report(truth, guesses, names)
        report["tokens"] = int(len(truth))
        report["unseen_tags"] = unseen
        report["unknown_tokens"] = int(unknown.sum())
        report["unknown_accuracy"] = float(np.mean(truth[unknown] == guesses[unknown])) if unknown.any() else None
        return report


def _check_sentences(sentences, role: str) -> list[list[tuple[str, str]]]:
    checked = []
    for row, sentence in enumerate(sentences):
        pairs = []
        for column, pair in enumerate(sentence):
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
                raise DataError(f"{role} sentence #{row}, token {column}: expected a (word, tag) pair, got {pair!r}.")
            pairs.append((pair[0], pair[1]))
        if pairs:
            checked.append(pairs)
    if not checked:
        raise DataError(f"No {role} sentences with tokens given.")
    return checked
