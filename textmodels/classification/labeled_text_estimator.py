"""The user-object side of a `LabeledTextModel`: `TextClassifier` and `SequenceTagger` keep the trained Keras
network in ``network`` and share one ``load``/``save`` pair through `textmodels.saving`.

Example:
    >>> from textmodels.tagging import SequenceTagger
    >>> try:
    ...     SequenceTagger().tag_names
    ... except RuntimeError as error:
    ...     print(error)
    This sequence tagger is not trained yet: call fit() first, or SequenceTagger.load(path).
"""

from __future__ import annotations

from pathlib import Path

from textmodels.errors import DROPOUT_RATE, POSITIVE_INT, POSITIVE_NUMBER, check_all
from textmodels.saving import ModelFileError, load_model, save_model


def check_settings(*, sizes: dict, optional_sizes: dict, dropout_rates: dict, learning_rate, clipnorm) -> None:
    """The constructors' checks, before any data is read: `textmodels.errors.ConfigurationError` naming the first
    setting out of range (``sizes`` positive integers, ``optional_sizes`` too or None, ``dropout_rates`` in [0, 1),
    ``learning_rate`` and ``clipnorm`` > 0 or None)."""
    check_all(POSITIVE_INT, **sizes)
    check_all(POSITIVE_INT, optional=True, **optional_sizes)
    check_all(DROPOUT_RATE, **dropout_rates)
    check_all(POSITIVE_NUMBER, optional=True, learning_rate=learning_rate, clipnorm=clipnorm)


class LabeledTextEstimator:
    """Base of the estimators; subclasses name what they are (``what``, e.g. ``"text classifier"``) and the
    network classes their files may hold (`network_classes`)."""

    what = "labelled-text model"
    network = None

    @classmethod
    def network_classes(cls) -> list[type]:
        """The `LabeledTextModel` classes this estimator wraps."""
        raise NotImplementedError

    @classmethod
    def for_network(cls, network):
        """An untrained estimator of the kind that ``network`` is (the subclass' default settings)."""
        return cls()

    @classmethod
    def from_network(cls, network):
        """Wraps a trained network (e.g. one restored by `TrainingRun.restore`)."""
        estimator = cls.for_network(network)
        estimator.network = network
        return estimator

    @classmethod
    def load(cls, path: str | Path):
        """The estimator saved at ``path`` by `save`; `textmodels.saving.ModelFileError` naming the file for
        anything else (another kind of model, a network without its text encoder or label names)."""
        network = load_model(path, cls.network_classes(), f"a {cls.what}")
        if network.text_encoder is None or not network.label_names:
            raise ModelFileError(f"{path}: the {type(network).__name__} model lacks its text encoder or label names")
        return cls.from_network(network)

    def fit_in_run(self, data, run_dir: str | Path | None = None, *, validation=None, epochs: int,
                   out: str | Path | None = None, resume: bool = False, patience: int | None = None,
                   verbose="auto", distribution=None, fit_options: dict | None = None):
        """Trains like ``fit`` on ``data`` (and ``validation``; ``fit_options`` go to ``fit``), in a run folder: a
        checkpoint after every epoch in ``run_dir`` (default: beside ``out``), ``resume=True`` continues an
        interrupted run (network, optimizer state and epoch), early stopping after ``patience`` epochs without a
        better validation loss (None, or no validation data: never), and the best epoch (lowest validation loss,
        else training loss) copied to ``out``. Returns the `textmodels.training.TrainedRun` (``.model`` is this
        estimator). See `textmodels.training.train_in_run`.

        Example:
            >>> import os, tempfile
            >>> from textmodels.tagging import SequenceTagger
            >>> sentences = [[("The", "DT"), ("dog", "NN")], [("A", "DT"), ("cat", "NN")]] * 4
            >>> out = os.path.join(tempfile.mkdtemp(), "pos.keras")
            >>> trained = SequenceTagger(embedding_dim=4, units=4).fit_in_run(sentences, epochs=2, out=out,
            ...                                                                 verbose=0)
            >>> trained.run.initial_epoch, trained.source.name, SequenceTagger.load(out).tag_names
            (2, 'best.keras', ['DT', 'NN'])
        """
        from textmodels.training import train_in_run

        validated = validation is not None and len(validation) > 0

        def prepare(restored):
            if restored is not None:
                self.network = restored
            return self

        def fit(estimator, callbacks, run):
            return estimator.fit(data, validation=validation if validated else None, epochs=epochs,
                                 initial_epoch=run.initial_epoch, callbacks=callbacks, verbose=verbose,
                                 distribution=distribution, **(fit_options or {}))

        return train_in_run(run_dir, prepare, fit, model_classes=self.network_classes(), what=f"a {self.what}",
                            epochs=epochs, out=out, resume=resume, monitor="val_loss" if validated else "loss",
                            patience=patience if validated else None, distribution=distribution)

    def save(self, path: str | Path) -> None:
        """Writes the network with its text encoder and label names to one `.keras` file, atomically."""
        save_model(self._require_network(), path)

    def _require_network(self):
        if self.network is None:
            raise RuntimeError(f"This {self.what} is not trained yet: call fit() first, or "
                               f"{type(self).__name__}.load(path).")
        return self.network
