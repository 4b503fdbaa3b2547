"""Training language models: real learning on streams and sentences, NaN safety, resuming, schedules."""

from __future__ import annotations

import json
import math
from collections import Counter

import keras
import numpy as np
import pytest

from textmodels.errors import CorpusError
from textmodels.language_model.language_model import LanguageModel
from textmodels.language_model.perplexity import evaluate_language_model
from textmodels.language_model.text_generator import TextGenerator
from textmodels.language_model.training import StepDecay, train_language_model
from textmodels.training import TrainingDiverged

TINY = dict(units=48, embedding_dim=16, layers=1, optimizer="adam", learning_rate=0.02, verbose=0)


def _unigram_entropy(tokens) -> float:
    counts = np.array(list(Counter(tokens).values()), dtype="float64")
    probs = counts / counts.sum()
    return float(-(probs * np.log(probs)).sum())


@pytest.mark.slow
def test_char_model_on_shakespeare_beats_the_unigram_entropy(shared_data, tmp_path):
    text = (shared_data / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8")[:22_000]
    train, held_out = text[:20_000], text[20_000:]
    result = train_language_model(train, tmp_path, valid_text=held_out, level="char", batch_size=16, num_steps=32,
                                  epochs=4, **TINY)
    score = evaluate_language_model(result.model, held_out)
    unigram = _unigram_entropy(train)
    assert score.nats_per_token < unigram - 0.6, (score.nats_per_token, unigram)
    assert result.history["val_loss"][-1] == pytest.approx(score.nats_per_token)
    assert result.history["val_loss"][-1] < result.history["val_loss"][0]
    assert score.bits_per_char == pytest.approx(score.nats_per_token / math.log(2))


def test_repeating_pattern_is_learned_and_generated(tmp_path):
    text = "abcdefg\n" * 120
    result = train_language_model(text, tmp_path, level="char", batch_size=8, num_steps=12, epochs=3, **TINY)
    assert evaluate_language_model(result.model, "abcdefg\n" * 10).perplexity < 1.2
    generation = TextGenerator(result.model).generate(prime="cd", max_tokens=14, temperature=0.0)
    assert generation.full_text == "cd" + "efg\nabcdefg\nab"  # 14 new characters


def test_sentence_regime_learns_a_word_grammar(tmp_path):
    rng = np.random.default_rng(0)
    subjects, verbs, objects = ["the cat", "a dog", "my bird"], ["sees", "likes"], ["the fish", "a ball", "some food"]
    lines = [f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}" for _ in range(300)]
    text = "\n".join(lines) + "\n"
    result = train_language_model(text, tmp_path, regime="sentences", batch_size=32, epochs=4, **TINY)
    score = evaluate_language_model(result.model, text)
    tokens = [token for line in lines for token in [*line.split(), "<eos>"]]
    assert score.tokens == len(tokens)
    # The grammar allows log(3*2*3) nats per sentence, i.e. 18 choices over 6 predicted tokens.
    assert score.nats_per_token < _unigram_entropy(tokens) - 0.8
    assert score.nats_per_token < math.log(18) / 6 + 0.25
    generation = TextGenerator(result.model).generate(temperature=0.0, max_tokens=20)
    assert generation.stopped_at_eos and len(generation.token_ids) == 5


class _PoisonWeights(keras.callbacks.Callback):
    """Makes every weight NaN in the second epoch, as a diverging run would."""

    def on_train_batch_begin(self, batch, logs=None):
        if self.params and batch == 1 and getattr(self, "epoch", 0) == 1:
            for variable in self.model.trainable_weights:
                variable.assign(np.full(tuple(variable.shape), np.nan, "float32"))

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch


def test_nan_loss_stops_with_a_clear_message_keeping_the_last_good_checkpoint(tmp_path):
    text = "abcdefg\n" * 60
    with pytest.raises(TrainingDiverged, match=r"loss became nan.*last good checkpoint is .*last.keras"):
        train_language_model(text, tmp_path, level="char", batch_size=4, num_steps=8, epochs=3,
                             callbacks=[_PoisonWeights()], **TINY)
    kept = LanguageModel.load(tmp_path / "last.keras")
    assert json.loads((tmp_path / "state.json").read_text())["epoch"] == 1
    assert math.isfinite(evaluate_language_model(kept, text).perplexity)


def test_resume_continues_from_the_last_epoch(tmp_path):
    text = "abcdefg\n" * 60
    options = dict(level="char", batch_size=4, num_steps=8, **TINY)
    first = train_language_model(text, tmp_path, epochs=1, **options)
    assert first.epochs_completed == 1
    resumed = train_language_model(text, tmp_path, epochs=2, resume=True, **options)
    assert resumed.epochs_completed == 2 and len(resumed.history["loss"]) == 1
    with pytest.raises(ValueError, match="trained with batch size 4; resume with that batch size"):
        train_language_model(text, tmp_path, epochs=3, resume=True, **{**options, "batch_size": 2})
    with pytest.raises(FileNotFoundError, match="Cannot resume: no checkpoint"):
        train_language_model(text, tmp_path / "fresh", epochs=1, resume=True, **options)


def test_bad_corpora_are_clear_errors(tmp_path):
    with pytest.raises(CorpusError, match="empty"):
        train_language_model("  \n", tmp_path, **TINY)
    with pytest.raises(CorpusError, match="shorter than one window"):
        train_language_model("a b c\n", tmp_path, batch_size=4, num_steps=5, **TINY)


def test_progress_logs_show_perplexity_of_the_running_loss(tmp_path):
    text = "abcdefg\n" * 40
    result = train_language_model(text, tmp_path, level="char", batch_size=4, num_steps=8, epochs=1, **TINY)
    assert result.history["perplexity"][0] == pytest.approx(math.exp(result.history["loss"][0]))


def test_step_decay_halves_after_the_given_epoch():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(1.0), "mse")
    decay = StepDecay(1.0, 0.5, after=4)
    decay.set_model(model)
    rates = []
    for epoch in range(7):
        decay.on_epoch_begin(epoch)
        rates.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
    assert rates == [1.0, 1.0, 1.0, 1.0, 0.5, 0.25, 0.125]
