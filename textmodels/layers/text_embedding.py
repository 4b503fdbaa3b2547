"""Token embeddings: trained from scratch, or initialised from pretrained vectors and frozen or fine-tuned."""

from __future__ import annotations

from pathlib import Path

import keras

from textmodels.errors import ConfigurationError, check_choice
from textmodels.text.vectors import PretrainedVectors, load_vectors
from textmodels.text.vocabulary import Vocabulary

EMBEDDING_MODES = ("rand", "static", "non-static")


@keras.saving.register_keras_serializable(package="textmodels")
class TextEmbedding(keras.layers.Embedding):
    """An `Embedding` with ``mask_zero=True`` by default and Kim (2014)'s three modes.

    Args:
        vocabulary_size, output_dim: the table's shape.
        mode: ``rand`` (random initialisation, trained), ``static`` (frozen), ``non-static`` (fine-tuned).
            The last two make sense with `from_vectors`.

    The weights (pretrained or learned) are saved in the `.keras` file; the vectors file is not needed again.

    Example:
        >>> import keras, numpy as np
        >>> layer = TextEmbedding(10, 4)
        >>> ids = np.array([[3, 2, 0]])
        >>> tuple(layer(ids).shape), keras.ops.convert_to_numpy(layer.compute_mask(ids)).tolist()
        ((1, 3, 4), [[True, True, False]])
    """

    def __init__(self, vocabulary_size: int, output_dim: int, mode: str = "rand", mask_zero: bool = True, **kwargs):
        check_choice("embedding mode", mode, EMBEDDING_MODES, kinds="modes")
        kwargs.pop("input_dim", None)
        super().__init__(input_dim=vocabulary_size, output_dim=output_dim, mask_zero=mask_zero, **kwargs)
        self.mode = mode
        if mode == "static":
            self.trainable = False
        self.vectors_report: PretrainedVectors | None = None

    @classmethod
    def from_vectors(
        cls, path: str | Path, vocabulary: Vocabulary, mode: str = "non-static", dim: int | None = None, **kwargs
    ) -> TextEmbedding:
        """A layer initialised from a GloVe/word2vec text file; ``layer.vectors_report`` says how many words
        were found (``.found`` of ``.searched``)."""
        if mode == "rand":
            raise ConfigurationError("mode='rand' ignores pretrained vectors; use 'static' or 'non-static'.")
        vectors = load_vectors(path, vocabulary, dim=dim)
        layer = cls(len(vocabulary), vectors.matrix.shape[1], mode=mode, **kwargs)
        layer.build((None, None))
        layer.embeddings.assign(vectors.matrix)
        layer.vectors_report = vectors
        return layer

    def get_config(self):
        config = super().get_config()
        config["vocabulary_size"] = config.pop("input_dim")
        config["mode"] = self.mode
        return config
