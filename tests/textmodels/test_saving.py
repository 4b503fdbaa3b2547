"""The one checked loader and the atomic saver: what a file holds versus what was expected, and no half-written
model ever replacing a good one."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from textmodels.atomic_files import write_text_atomically
from textmodels.classification import TextClassifier
from textmodels.language_model import LanguageModel, TextGenerator, fit_lm_encoder
from textmodels.saving import ModelFileError, save_model, saved_class_name
from textmodels.tagging import SequenceTagger

pytestmark = pytest.mark.all_backends


@pytest.fixture(scope="module")
def classifier_file(tmp_path_factory):
    classifier = TextClassifier(embedding_dim=4, units=2)
    classifier.fit(["good film", "bad film"] * 4, ["pos", "neg"] * 4, epochs=1, verbose=0)
    path = tmp_path_factory.mktemp("saved") / "classifier.keras"
    classifier.save(path)
    return path


def test_each_loader_names_what_the_file_holds_and_what_it_expected(classifier_file):
    assert saved_class_name(classifier_file) == "textmodels>TextRNN"
    with pytest.raises(ModelFileError, match=r"classifier.keras: holds a TextRNN model, not a language model"):
        LanguageModel.load(classifier_file)
    with pytest.raises(ModelFileError, match=r"holds a TextRNN model, not a sequence tagger \(RecurrentTagger\)"):
        SequenceTagger.load(classifier_file)
    with pytest.raises(ModelFileError, match=r"holds a TextRNN model, not a language model"):
        TextGenerator.load(classifier_file)
    assert TextClassifier.load(classifier_file).label_names == ["neg", "pos"]


def test_language_model_and_generator_share_one_load_save_pair(tmp_path):
    model = LanguageModel(fit_lm_encoder("a b c\n"), 4, 4, layers=1)
    model.build((None, None))
    generator = TextGenerator(model)
    generator.save(tmp_path / "lm.keras")
    again = TextGenerator.load(tmp_path / "lm.keras")
    ids = np.array([[4, 5, 6]])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(again.model(ids)), keras.ops.convert_to_numpy(model(ids)))
    assert again.generate("a", max_tokens=5, temperature=0.0) == generator.generate("a", max_tokens=5, temperature=0.0)


def test_a_failed_save_leaves_the_previous_file_and_no_temporary(tmp_path, classifier_file):
    target = tmp_path / "model.keras"
    target.write_bytes(classifier_file.read_bytes())
    before = target.read_bytes()
    with pytest.raises(Exception):  # noqa: B017 - whatever Keras raises for a non-model, the old file must stay
        save_model(object(), target)
    assert target.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.keras"]
    with pytest.raises(ModelFileError, match="must end in .keras"):
        save_model(keras.Sequential([keras.Input((1,))]), tmp_path / "model.h5")


def test_text_is_replaced_whole(tmp_path):
    path = tmp_path / "state.json"
    write_text_atomically(path, "first")
    write_text_atomically(path, "second")
    assert path.read_text() == "second" and [p.name for p in tmp_path.iterdir()] == ["state.json"]
