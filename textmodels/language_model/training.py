"""Training language models (truncated BPTT on streams, or padded sentences).

`train_language_model` wires together the batches of `textmodels.data.lm_batches`, a stateful `LanguageModel`, clipped
optimizers and the training path of every model (`textmodels.training.train_in_run`: resumable, NaN-safe
checkpoints, the best epoch copied to ``out``); the exact validation perplexity after every epoch is
`textmodels.language_model.perplexity.evaluate_language_model`'s.

Example:
    >>> import tempfile
    >>> text = "a b c d\\n" * 40
    >>> result = train_language_model(text, tempfile.mkdtemp(), level="char", units=16, embedding_dim=8,
    ...                               layers=1, batch_size=4, num_steps=8, epochs=1, optimizer="adam",
    ...                               learning_rate=0.01, verbose=0)
    >>> from textmodels.language_model.perplexity import evaluate_language_model
    >>> score = evaluate_language_model(result.model, text)
    >>> score.tokens == len(text) - 1 and score.perplexity > 1
    True
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras

from textmodels.data.lm_batches import sentence_pairs, stream_windows
from textmodels.errors import (
    DROPOUT_RATE,
    INTEGER,
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    POSITIVE_NUMBER,
    ConfigurationError,
    CorpusError,
    check,
    check_all,
)
from textmodels.language_model.config import LM_DEFAULTS
from textmodels.language_model.encoding import encode_sentences, encode_stream, fit_lm_encoder
from textmodels.language_model.language_model import LanguageModel, initialize_uniform
from textmodels.language_model.perplexity import evaluate_language_model
from textmodels.training import TrainingRun, make_optimizer, train_in_run
from textmodels.training.optimizers import DEFAULT_LEARNING_RATES


class ShowPerplexity(keras.callbacks.Callback):
    """Adds ``perplexity = exp(loss)`` to the logs after every batch and epoch, so the progress bar shows it.

    Keras' running loss is the mean over the epoch's batches so far; in the stream regime every batch holds the
    same number of tokens, so this is exactly the epoch's running perplexity (sentence batches differ slightly in
    token count; the exact figure is the validation one). Costs nothing, unlike a metric recomputing the softmax.
    Place it before the progress bar (any user callback list is).

    Example:
        >>> logs = {"loss": 0.0}
        >>> ShowPerplexity().on_train_batch_end(0, logs)
        >>> logs["perplexity"]
        1.0
    """

    def on_train_batch_end(self, batch, logs=None):
        if logs is not None and "loss" in logs:
            logs["perplexity"] = _safe_exp(logs["loss"])

    def on_epoch_end(self, epoch, logs=None):
        self.on_train_batch_end(0, logs)


def _safe_exp(value: float) -> float:
    value = float(value)
    return math.exp(value) if value < 700 else math.inf


class ResetStateEachEpoch(keras.callbacks.Callback):
    """Zeroes the carried recurrent state at the start of every epoch (each pass restarts the streams).

    Example:
        >>> from textmodels.language_model.encoding import fit_lm_encoder
        >>> model = LanguageModel(fit_lm_encoder("a b\\n"), 4, 4, layers=1, stateful=True)
        >>> model.build((2, None))
        >>> callback = ResetStateEachEpoch(); callback.set_model(model); callback.on_epoch_begin(0)
    """

    def on_epoch_begin(self, epoch, logs=None):
        self.model.reset_state()


class ExactValidation(keras.callbacks.Callback):
    """Adds ``val_loss`` and ``val_perplexity`` (and ``val_bits_per_char``) to the epoch logs, computed exactly
    over the whole validation text with `evaluate_language_model`; place it before checkpoint callbacks.

    Example:
        >>> from textmodels.language_model.encoding import fit_lm_encoder
        >>> model = LanguageModel(fit_lm_encoder("a b\\n"), 4, 4, layers=1)
        >>> model.build((None, None))
        >>> callback, logs = ExactValidation("a b a\\n"), {}
        >>> callback.set_model(model); callback.on_epoch_end(0, logs)
        >>> sorted(logs)
        ['val_loss', 'val_perplexity']
    """

    def __init__(self, valid_text: str):
        super().__init__()
        self.valid_text = valid_text
        self.evaluator = None

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        if self.evaluator is None:
            self.evaluator = self.model.stateless_copy()
        else:
            self.evaluator.set_weights(self.model.get_weights())
        score = evaluate_language_model(self.evaluator, self.valid_text)
        logs["val_loss"] = score.nats_per_token
        logs["val_perplexity"] = score.perplexity
        if score.bits_per_char is not None:
            logs["val_bits_per_char"] = score.bits_per_char


class StepDecay(keras.callbacks.Callback):
    """Sets the learning rate to ``base * decay ** max(0, epoch_number - after)`` at each epoch start
    (Zaremba et al.: lr 1, halved every epoch after the 4th: ``decay=0.5, after=4``).

    Example:
        >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        >>> model.compile(keras.optimizers.SGD(1.0), "mse")
        >>> callback = StepDecay(1.0, 0.5, after=4); callback.set_model(model); callback.on_epoch_begin(5)
        >>> float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        0.25
    """

    def __init__(self, base: float, decay: float, after: int):
        super().__init__()
        self.base, self.decay, self.after = base, decay, after

    def on_epoch_begin(self, epoch, logs=None):
        self.model.optimizer.learning_rate.assign(self.base * self.decay ** max(0, epoch + 1 - self.after))


class TimeBudget(keras.callbacks.Callback):
    """Stops training (after the current batch) once ``seconds`` of wall time have passed.

    Example:
        >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        >>> budget = TimeBudget(0.0); budget.set_model(model); budget.on_train_batch_end(0)
        >>> budget.exhausted, model.stop_training
        (True, True)
    """

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds
        self.started = time.monotonic()
        self.exhausted = False

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() - self.started > self.seconds:
            self.exhausted = True
            self.model.stop_training = True


@dataclass
class TrainedLanguageModel:
    """What `train_language_model` returns: the stateless model, this call's Keras history and the run folder;
    with ``out``, where the best epoch was copied and from which checkpoint (``out``, ``source``).

    ``epochs_completed`` counts epochs checkpointed in the run (a resumed run included), ``resumed_after`` those
    completed before this call; when ``stopped_by_time_budget`` is set, the last of them was cut short. See the
    module example.
    """

    model: LanguageModel
    history: dict
    run: TrainingRun
    seconds: float
    stopped_by_time_budget: bool
    epochs_completed: int
    resumed_after: int = 0
    out: Path | None = None
    source: Path | None = None


def compile_lm(model: LanguageModel, optimizer: str = "adam", learning_rate: float | None = None,
               clipnorm: float | None = 5.0) -> None:
    """Compiles ``model`` with `make_optimizer` (global-norm clipping) and the mean NLL per token (padding
    ignored).

    Example:
        >>> from textmodels.language_model.encoding import fit_lm_encoder
        >>> model = LanguageModel(fit_lm_encoder("a b\\n"), 4, 4, layers=1)
        >>> compile_lm(model, "sgd", 1.0); float(model.optimizer.global_clipnorm)
        5.0
    """
    model.compile(
        optimizer=make_optimizer(optimizer, learning_rate, clipnorm=clipnorm),
        # Sentence batches are padded with id 0, which the loss must skip; streams never contain it, and
        # ignore_class costs two extra passes over the (batch, time, vocabulary) logits.
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=0 if model.regime == "sentences" else None
        ),
    )


def train_language_model(
    train_text: str,
    run_dir: str | Path | None = None,
    *,
    out: str | Path | None = None,
    valid_text: str | None = None,
    level: str = LM_DEFAULTS.level,
    regime: str = LM_DEFAULTS.regime,
    word_tokenizer: str = LM_DEFAULTS.word_tokenizer,
    lowercase: bool = LM_DEFAULTS.lowercase,
    min_count: int = LM_DEFAULTS.min_count,
    max_vocabulary: int | None = LM_DEFAULTS.max_vocabulary,
    cell: str = LM_DEFAULTS.cell,
    layers: int = LM_DEFAULTS.layers,
    units: int = LM_DEFAULTS.units,
    embedding_dim: int | None = LM_DEFAULTS.embedding_dim,
    dropout: float = LM_DEFAULTS.dropout,
    tie_embeddings: bool = LM_DEFAULTS.tie_embeddings,
    batch_size: int = LM_DEFAULTS.batch_size,
    num_steps: int = LM_DEFAULTS.num_steps,
    max_length: int | None = LM_DEFAULTS.max_length,
    epochs: int = LM_DEFAULTS.epochs,
    optimizer: str = LM_DEFAULTS.optimizer,
    learning_rate: float | None = LM_DEFAULTS.learning_rate,
    clipnorm: float | None = LM_DEFAULTS.clipnorm,
    lr_decay: float | None = LM_DEFAULTS.lr_decay,
    decay_after: int = LM_DEFAULTS.decay_after,
    init_scale: float | None = LM_DEFAULTS.init_scale,
    patience: int | None = LM_DEFAULTS.patience,
    time_budget_seconds: float | None = None,
    resume: bool = False,
    seed: int = LM_DEFAULTS.seed,
    verbose: int | str = "auto",
    callbacks: Sequence[keras.callbacks.Callback] = (),
    distribution=None,
) -> TrainedLanguageModel:
    """Trains a language model on ``train_text``; checkpoints every epoch in ``run_dir`` (default: beside
    ``out``) and copies the best epoch to ``out`` (`textmodels.training.train_in_run`).

    ``regime="stream"``: truncated BPTT over ``batch_size`` parallel streams in windows of ``num_steps``,
    the state carried across windows and reset each epoch. ``regime="sentences"``: one line per sequence
    (``<bos>``/``<eos>``, masked padding, at most ``max_length`` tokens), shuffled.

    The loss is the mean NLL per token; the progress bar shows it with the epoch's running perplexity. With
    ``valid_text`` the exact validation loss/perplexity are computed after every epoch and ``best.keras`` is
    kept. Gradients are clipped to global norm ``clipnorm`` (None disables). ``lr_decay`` multiplies the
    learning rate every epoch after ``decay_after``. A NaN/inf loss stops training and raises
    `textmodels.training.TrainingDiverged` naming the last good checkpoint; ``resume=True`` continues from
    it (the architecture, vocabulary and optimizer state come from the checkpoint; data settings such as
    ``batch_size`` must match). ``time_budget_seconds`` stops training early (``stopped_by_time_budget`` is
    then set). See the module example.

    ``distribution`` (a `textmodels.training.distribution.Distribution` or its name) trains the sentences regime
    data-parallel, ``batch_size`` being the global batch. The stream regime refuses it: each of its
    ``batch_size`` streams carries its recurrent state from one window to the next in the layers' state
    variables, and a distribution strategy keeps one copy of every variable per replica, kept identical (the
    mirrored state of all streams), so a replica's streams would continue from another replica's state.
    """
    from textmodels.training.distribution import as_distribution

    started = time.monotonic()
    check_all(POSITIVE_INT, epochs=epochs, batch_size=batch_size, num_steps=num_steps, units=units, layers=layers,
              min_count=min_count)
    check_all(POSITIVE_INT, optional=True, max_vocabulary=max_vocabulary, embedding_dim=embedding_dim,
              max_length=max_length)
    check_all(POSITIVE_NUMBER, optional=True, learning_rate=learning_rate, clipnorm=clipnorm, lr_decay=lr_decay,
              init_scale=init_scale, time_budget_seconds=time_budget_seconds)
    check_all(NON_NEGATIVE_INT, optional=True, decay_after=decay_after, patience=patience)
    check("dropout", dropout, DROPOUT_RATE)
    check("seed", seed, INTEGER)
    distribution = as_distribution(distribution)
    if distribution.name != "none" and regime == "stream":
        raise ConfigurationError(
            f"--distribute {distribution.name} cannot train the stream regime: the state each stream carries "
            "from window to window lives in variables that distribution keeps identical on every replica; use "
            "--regime sentences, or train the stream regime without --distribute."
        )
    if not train_text or not train_text.strip():
        raise CorpusError("The training corpus is empty.")
    prepared = {}

    def prepare(model):
        """The restored model or a new one, and the training arrays in the regime it was built for."""
        encoder = model.text_encoder if model is not None else fit_lm_encoder(
            train_text, level, regime, word_tokenizer, lowercase, min_count, max_vocabulary
        )
        model_regime = model.regime if model is not None else regime
        if model_regime == "stream":
            prepared["data"] = stream_windows(encode_stream(train_text, encoder), batch_size, num_steps)
            prepared["options"] = dict(batch_size=batch_size, shuffle=False)
        else:
            prepared["data"] = sentence_pairs(encode_sentences(train_text, encoder, max_length))
            prepared["options"] = dict(batch_size=batch_size, shuffle=True)
        if model is None:
            keras.utils.set_random_seed(seed)
            with distribution.scope():
                model = LanguageModel(
                    encoder,
                    embedding_dim=embedding_dim or units,
                    units=units,
                    cell=cell,
                    layers=layers,
                    dropout=dropout,
                    tie_embeddings=tie_embeddings,
                    regime=model_regime,
                    stateful=model_regime == "stream",
                )
                model.build((batch_size, None) if model_regime == "stream" else (None, None))
                if init_scale is not None:
                    initialize_uniform(model, init_scale, seed)
                compile_lm(model, optimizer, learning_rate, clipnorm)
        elif model_regime == "stream" and model.block.recurrent_layers[0].states[0].shape[0] != batch_size:
            raise ConfigurationError(
                f"The checkpoint resumed was trained with batch size "
                f"{model.block.recurrent_layers[0].states[0].shape[0]}; resume with that batch size."
            )
        return model

    budget = TimeBudget(time_budget_seconds) if time_budget_seconds else None

    def fit(model, run_callbacks, run):
        # Before the checkpoints: the perplexities and the exact validation loss they record.
        all_callbacks = [ShowPerplexity()] + ([ResetStateEachEpoch()] if model.stateful else [])
        if valid_text is not None:
            all_callbacks.append(ExactValidation(valid_text))
        if lr_decay is not None:
            all_callbacks.append(StepDecay(_base_rate(learning_rate, optimizer), lr_decay, decay_after))
        if budget is not None:
            all_callbacks.append(budget)
        x, y = prepared["data"]
        return distribution.fit(model, x, y, epochs=epochs, initial_epoch=run.initial_epoch,
                                callbacks=all_callbacks + run_callbacks + list(callbacks), verbose=verbose,
                                **prepared["options"])

    trained = train_in_run(run_dir, prepare, fit, model_classes=[LanguageModel], what="a language model",
                           epochs=epochs, out=out, resume=resume,
                           monitor="val_loss" if valid_text is not None else "loss", patience=patience,
                           distribution=distribution)
    model = trained.model
    return TrainedLanguageModel(
        model=model.stateless_copy() if model.stateful else model,
        history=trained.history,
        run=trained.run,
        seconds=time.monotonic() - started,
        stopped_by_time_budget=bool(budget and budget.exhausted),
        epochs_completed=int(trained.run.state["epoch"]),
        resumed_after=trained.resumed_after,
        out=trained.out,
        source=trained.source,
    )


def _base_rate(learning_rate: float | None, optimizer: str) -> float:
    return DEFAULT_LEARNING_RATES[optimizer] if learning_rate is None else learning_rate
