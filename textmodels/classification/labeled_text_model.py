"""The base of every classifier and tagger network: a Keras model that also carries its text preprocessing,
its label names and its problem type, so one `.keras` file holds everything needed to predict on raw text.

Example:
    >>> LabeledTextModel.output_units("binary", 2), LabeledTextModel.output_units("multiclass", 3)
    (1, 3)
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from textmodels.errors import ConfigurationError, DataError

PROBLEMS = ("binary", "multiclass", "multilabel", "tagging")
_ACTIVATIONS = {"binary": "sigmoid", "multiclass": "softmax", "multilabel": "sigmoid", "tagging": "softmax"}


class LabeledTextModel(keras.Model):
    """A `keras.Model` holding ``text_encoder`` (any Keras-serializable preprocessing object, e.g. a
    `TextEncoder`), ``label_names``, ``problem`` and ``threshold`` in its config.

    Subclasses pass these through ``super().__init__`` and add their own settings to ``super().get_config()``
    (which holds `metadata_config`); a classifier builds its last layer with `output_layer`.

    Args:
        text_encoder: the preprocessing that turns raw text into this model's integer inputs.
        label_names: class (or tag) names in output order.
        problem: ``binary`` (one sigmoid output for ``label_names[1]``), ``multiclass`` (softmax),
            ``multilabel`` (one sigmoid per label) or ``tagging`` (a softmax per token).
        threshold: the decision threshold of the sigmoid problems.

    Example:
        >>> from textmodels.classification.text_rnn import TextRNN
        >>> model = TextRNN(20, 2, embedding_dim=4, units=2, label_names=["neg", "pos"], problem="binary")
        >>> model.output_activation, model.metadata_config()["label_names"]
        ('sigmoid', ['neg', 'pos'])
    """

    def __init__(
        self,
        text_encoder=None,
        label_names: Sequence[str] = (),
        problem: str = "multiclass",
        threshold: float = 0.5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if problem not in PROBLEMS:
            raise ConfigurationError(f"Unknown problem {problem!r}; choose one of {', '.join(PROBLEMS)}.")
        if not 0.0 < threshold < 1.0:
            raise ConfigurationError(f"threshold must lie strictly between 0 and 1, got {threshold}.")
        label_names = tuple(str(name) for name in label_names)
        if problem == "binary" and len(label_names) not in (0, 2):
            raise DataError(f"A binary problem needs exactly 2 labels, got {len(label_names)}: {list(label_names)}.")
        if len(set(label_names)) != len(label_names):
            raise DataError(f"Duplicate label names in {list(label_names)}.")
        self.text_encoder = text_encoder
        self.label_names = label_names
        self.problem = problem
        self.threshold = float(threshold)

    @staticmethod
    def output_units(problem: str, num_labels: int) -> int:
        """Width of the output layer: 1 for binary problems, else one unit per label."""
        return 1 if problem == "binary" else num_labels

    @property
    def output_activation(self) -> str:
        return _ACTIVATIONS[self.problem]

    def output_layer(self, num_labels: int) -> keras.layers.Dense:
        """The dense output layer for ``num_labels`` labels, named ``classifier``: its width (`output_units`) and
        activation follow the problem.

        Example:
            >>> from textmodels.classification.text_cnn import TextCNN
            >>> layer = TextCNN(20, 2, embedding_dim=4, filters=2, problem="binary").output_layer(2)
            >>> layer.units, layer.activation.__name__
            (1, 'sigmoid')
        """
        return keras.layers.Dense(self.output_units(self.problem, num_labels), activation=self.output_activation,
                                  name="classifier")

    def get_config(self):
        return {**super().get_config(), **self.metadata_config()}

    def metadata_config(self) -> dict:
        """The preprocessing / label part of the config."""
        return {
            "text_encoder": (
                None if self.text_encoder is None else keras.saving.serialize_keras_object(self.text_encoder)
            ),
            "label_names": list(self.label_names),
            "problem": self.problem,
            "threshold": self.threshold,
        }

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if config.get("text_encoder") is not None:
            config["text_encoder"] = keras.saving.deserialize_keras_object(config["text_encoder"])
        return cls(**config)

