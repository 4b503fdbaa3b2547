"""An RNN language model: embedding -> stacked recurrent block -> dropout -> softmax over the vocabulary.

The model's config holds its `TextEncoder` (tokenizer + vocabulary), so one `.keras` file is everything needed
to score or generate text. Dropout is applied to the non-recurrent connections only (the embedding output,
between layers and before the softmax; Zaremba et al. 2014). With ``tie_embeddings`` the output layer reuses
the embedding matrix transposed (Press & Wolf 2017; Inan et al. 2017), after a linear projection when the
hidden size differs from the embedding size.

Example:
    >>> import numpy as np
    >>> from textmodels.language_model.encoding import fit_lm_encoder
    >>> encoder = fit_lm_encoder("the cat sat on the mat\\n")
    >>> model = LanguageModel(encoder, embedding_dim=8, units=8, layers=1, tie_embeddings=True)
    >>> logits, states = model(np.array([[4, 5, 6]]), return_state=True)
    >>> tuple(logits.shape), len(states)
    ((1, 3, 9), 2)
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from keras import ops

from textmodels.errors import ConfigurationError, check_choice, check_positive_int
from textmodels.language_model.encoding import REGIMES, is_char_level
from textmodels.layers import CELLS, RecurrentBlock, TextEmbedding
from textmodels.saving import load_model, save_model
from textmodels.text import TextEncoder


@keras.saving.register_keras_serializable(package="textmodels")
class LanguageModel(keras.Model):
    """Predicts the next token at every position of a ``(batch, time)`` id array; returns logits.

    Args:
        encoder: the `TextEncoder` (tokenizer + vocabulary); saved with the model.
        embedding_dim: size of the token embeddings.
        units: recurrent state size of every layer.
        cell: ``simple`` | ``gru`` | ``lstm`` | ``peephole_lstm`` | ``coupled_lstm``.
        layers: depth of the recurrent stack.
        dropout: dropout rate on the non-recurrent connections.
        tie_embeddings: share the embedding matrix with the output layer.
        regime: ``"stream"`` (one contiguous corpus, truncated BPTT) or ``"sentences"`` (``<bos>`` ... ``<eos>``
            per line, id 0 is masked padding).
        stateful: keep the final recurrent state of each batch as the initial state of the next (training on
            streams). A stateful model needs a fixed batch size; `stateless_copy` gives one for any batch size.

    ``call(token_ids, initial_state=None, return_state=False)``: with ``return_state`` the final states (flat
    list, ``block.states_per_layer`` per layer) come back too, so text can be scored or generated piece by piece.

    Example:
        >>> import numpy as np
        >>> from textmodels.language_model.encoding import fit_lm_encoder
        >>> model = LanguageModel(fit_lm_encoder("a b c\\n"), embedding_dim=4, units=6, cell="gru", layers=2)
        >>> whole = model(np.array([[4, 5, 6]]))
        >>> first, states = model(np.array([[4, 5]]), return_state=True)
        >>> last = model(np.array([[6]]), initial_state=states)
        >>> bool(np.allclose(whole[:, 2], last[:, 0], atol=1e-6)), model.level
        (True, 'word')
    """

    def __init__(
        self,
        text_encoder: TextEncoder,
        embedding_dim: int = 200,
        units: int = 200,
        cell: str = "lstm",
        layers: int = 2,
        dropout: float = 0.0,
        tie_embeddings: bool = False,
        regime: str = "stream",
        stateful: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(text_encoder, TextEncoder):
            raise TypeError(f"text_encoder must be a TextEncoder, got {type(text_encoder).__name__}")
        check_choice("regime", regime, REGIMES)
        check_choice("cell", cell, CELLS)
        check_positive_int("embedding_dim", embedding_dim)
        self.text_encoder = text_encoder
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.num_layers = layers
        self.dropout_rate = dropout
        self.tie_embeddings = tie_embeddings
        self.regime = regime
        self.stateful = stateful
        self.vocabulary_size = len(text_encoder.vocabulary)
        self.embedding = TextEmbedding(self.vocabulary_size, embedding_dim, mask_zero=False, name="embedding")
        self.block = RecurrentBlock(
            units, cell=cell, layers=layers, dropout=dropout, stateful=stateful, name="recurrent"
        )
        self.output_dropout = keras.layers.Dropout(dropout, name="output_dropout")
        if tie_embeddings:
            self.projection = (
                keras.layers.Dense(embedding_dim, use_bias=False, name="projection") if units != embedding_dim else None
            )
            self.output_layer = None
        else:
            self.projection = None
            self.output_layer = keras.layers.Dense(self.vocabulary_size, name="softmax")

    @property
    def level(self) -> str:
        """``"char"`` or ``"word"``, from the text encoder's tokenizer."""
        return "char" if is_char_level(self.text_encoder) else "word"

    def build(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        self.embedding.build((batch, steps))
        self.block.build((batch, steps, self.embedding_dim))
        hidden_shape = (batch, steps, self.units)
        if self.tie_embeddings:
            if self.projection is not None:
                self.projection.build(hidden_shape)
            self.output_bias = self.add_weight(shape=(self.vocabulary_size,), initializer="zeros", name="output_bias")
        else:
            self.output_layer.build(hidden_shape)

    def call(self, token_ids, training=None, initial_state=None, return_state=False):
        token_ids = ops.cast(token_ids, "int32")
        # Streams never contain padding, so they skip the mask (and the per-step select it costs).
        mask = ops.not_equal(token_ids, 0) if self.regime == "sentences" else None
        hidden = self.block(
            self.embedding(token_ids),
            mask=mask,
            initial_state=initial_state,
            training=training,
            return_state=return_state,
        )
        hidden, states = hidden if return_state else (hidden, None)
        logits = self._logits(self.output_dropout(hidden, training=training))
        return (logits, states) if return_state else logits

    def step(self, token_ids, states):
        """One inference step for (N,) ``token_ids``: ``(logits (N, V), new states)``, equal to `call` on a
        one-token sequence with ``initial_state=states`` but without the time loop (`RecurrentBlock.step`).

        Example:
            >>> import numpy as np
            >>> from textmodels.language_model.encoding import fit_lm_encoder
            >>> model = LanguageModel(fit_lm_encoder("a b\\n"), 4, 4, layers=2)
            >>> states = model.initial_state(2)
            >>> whole = ops.convert_to_numpy(model(np.array([[4], [5]]), initial_state=states))
            >>> logits = ops.convert_to_numpy(model.step(np.array([4, 5]), states)[0])
            >>> bool(np.allclose(whole[:, 0], logits, atol=1e-6))
            True
        """
        if not self.built:
            self.build((None, None))
        # The layers' own call(), as in RecurrentBlock.step: generation runs this once per token, and on
        # PyTorch Layer.__call__'s bookkeeping (masks, autocasting, scopes) costs more than the arithmetic.
        hidden, new_states = self.block.step(self.embedding.call(ops.cast(token_ids, "int32")), states)
        if not self.tie_embeddings:
            return self.output_layer.call(hidden), new_states
        return self._logits(hidden), new_states

    def _logits(self, hidden):
        if not self.tie_embeddings:
            return self.output_layer(hidden)
        if self.projection is not None:
            hidden = self.projection(hidden)
        return ops.matmul(hidden, ops.transpose(self.embedding.embeddings)) + self.output_bias

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], self.vocabulary_size)

    def initial_state(self, batch_size: int) -> list:
        """Zero recurrent states for ``batch_size`` sequences (the form ``call(initial_state=...)`` takes).

        Example:
            >>> from textmodels.language_model.encoding import fit_lm_encoder
            >>> states = LanguageModel(fit_lm_encoder("a\\n"), 4, 5, layers=2).initial_state(3)
            >>> [tuple(state.shape) for state in states]
            [(3, 5), (3, 5), (3, 5), (3, 5)]
        """
        return self.block.get_initial_state(batch_size)

    def reset_state(self) -> None:
        """Zeroes the carried state of a stateful model (the start of a new pass over the streams).

        Example:
            >>> import numpy as np
            >>> from textmodels.language_model.encoding import fit_lm_encoder
            >>> model = LanguageModel(fit_lm_encoder("a b\\n"), 4, 4, layers=1, stateful=True)
            >>> model.build((1, None))
            >>> first = model(np.array([[4, 5]]))
            >>> model.reset_state()
            >>> bool(np.allclose(model(np.array([[4, 5]])), first))
            True
        """
        for layer in self.block.recurrent_layers:
            layer.reset_state()

    @classmethod
    def load(cls, path: str | Path, stateless: bool = True) -> LanguageModel:
        """The language model saved at ``path`` (``safe_mode=True``); `textmodels.saving.ModelFileError` naming
        the file when it is missing, is not a `.keras` archive or holds another kind of model. A model saved
        while training on streams (stateful) comes back stateless unless ``stateless=False`` (which also keeps
        its optimizer, to continue training).

        Example:
            >>> import os, tempfile
            >>> from textmodels.language_model.encoding import fit_lm_encoder
            >>> model = LanguageModel(fit_lm_encoder("a b\\n"), 4, 4, layers=1)
            >>> model.build((None, None))
            >>> path = os.path.join(tempfile.mkdtemp(), "lm.keras")
            >>> model.save(path)
            >>> LanguageModel.load(path).vocabulary_size
            6
        """
        model = load_model(path, [cls], "a language model", compile=not stateless)
        return model.stateless_copy() if stateless and model.stateful else model

    def save(self, filepath: str | Path, overwrite: bool = True) -> None:
        """Writes the model, its vocabulary and (when compiled) its optimizer state to one `.keras` file,
        atomically (`textmodels.saving.save_model`); ``overwrite=False`` refuses to replace a file."""
        if not overwrite and Path(filepath).exists():
            raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it")
        save_model(self, filepath)

    def stateless_copy(self) -> LanguageModel:
        """The same model and weights with ``stateful=False``, usable with any batch size (evaluation, sampling).

        Example:
            >>> from textmodels.language_model.encoding import fit_lm_encoder
            >>> model = LanguageModel(fit_lm_encoder("a b\\n"), 4, 4, layers=1, stateful=True)
            >>> model.build((3, 5))
            >>> model.stateless_copy().stateful
            False
        """
        config = self.get_config()
        config["stateful"] = False
        copy = type(self).from_config(config)
        copy.build((None, None))
        copy.set_weights(self.get_weights())
        return copy

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "text_encoder": keras.saving.serialize_keras_object(self.text_encoder),
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "cell": self.cell,
            "layers": self.num_layers,
            "dropout": self.dropout_rate,
            "tie_embeddings": self.tie_embeddings,
            "regime": self.regime,
            "stateful": self.stateful,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        # Files written before the text encoder had its present name store it as "encoder".
        serialized = config.pop("text_encoder") if "text_encoder" in config else config.pop("encoder")
        config["text_encoder"] = keras.saving.deserialize_keras_object(serialized)
        return cls(**config)


def initialize_uniform(model: LanguageModel, scale: float, seed: int = 0) -> None:
    """Re-initialises every trainable weight uniformly in ``[-scale, scale]`` (Zaremba et al. use 0.1).

    Example:
        >>> from textmodels.language_model.encoding import fit_lm_encoder
        >>> model = LanguageModel(fit_lm_encoder("a b\\n"), 4, 4, layers=1)
        >>> model.build((None, None)); initialize_uniform(model, 0.1)
        >>> max(float(abs(w).max()) for w in model.get_weights()) <= 0.1
        True
    """
    if scale <= 0:
        raise ConfigurationError(f"init scale must be positive, got {scale}")
    rng = np.random.default_rng(seed)
    for variable in model.trainable_weights:
        variable.assign(rng.uniform(-scale, scale, tuple(variable.shape)).astype(variable.dtype))
