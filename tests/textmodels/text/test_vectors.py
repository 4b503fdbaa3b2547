"""Pretrained vectors: coverage report, static vs fine-tuned embeddings, and errors with line numbers."""

import keras
import numpy as np
import pytest

from textmodels.layers import TextEmbedding
from textmodels.text import Vocabulary
from textmodels.text.vectors import VectorsFileError, load_vectors


@pytest.fixture
def vocabulary():
    return Vocabulary.build([["Cat", "dog", "emu"]])


def test_glove_and_word2vec_formats_fill_found_rows(tmp_path, vocabulary):
    (tmp_path / "glove.txt").write_text("cat 1 2 3\ndog 4 5 6\nzebra 0 0 1\n")
    (tmp_path / "w2v.txt").write_text("2 3\ncat 1 2 3\ndog 4 5 6\n")
    for name in ("glove.txt", "w2v.txt"):
        vectors = load_vectors(tmp_path / name, vocabulary)
        assert (vectors.found, vectors.searched) == (2, 3)
        assert vectors.matrix[vocabulary["Cat"]].tolist() == [1, 2, 3]  # falls back to the lower-cased word
        assert not vectors.matrix[0].any()
        assert np.abs(vectors.matrix[vocabulary["emu"]]).max() <= 0.25


@pytest.mark.parametrize(
    "content, message",
    [
        ("cat 1 2 3\ndog 4 5\n", ":2: 2 values for 'dog', expected dimension 3"),
        ("cat 1 2 3\ndog 4 x 6\n", ":2: non-numeric"),
        ("cat 1 2\nlonely\n", ":2: malformed line"),
        ("", "no vectors"),
    ],
)
def test_bad_vectors_files_name_the_line(tmp_path, vocabulary, content, message):
    (tmp_path / "bad.txt").write_text(content)
    with pytest.raises(VectorsFileError, match=message):
        load_vectors(tmp_path / "bad.txt", vocabulary)


def test_expected_dimension_and_encoding_errors(tmp_path, vocabulary):
    (tmp_path / "v.txt").write_text("cat 1 2\n")
    with pytest.raises(VectorsFileError, match="expected dimension 3"):
        load_vectors(tmp_path / "v.txt", vocabulary, dim=3)
    (tmp_path / "latin.txt").write_bytes(b"cat 1 2\ncaf\xe9 3 4\n")
    with pytest.raises(VectorsFileError, match=":2: not valid UTF-8"):
        load_vectors(tmp_path / "latin.txt", vocabulary)
    with pytest.raises(VectorsFileError, match="not found"):
        load_vectors(tmp_path / "missing.txt", vocabulary)


@pytest.mark.parametrize("mode, trainable", [("static", False), ("non-static", True)])
def test_from_vectors_modes_and_save_load(tmp_path, vocabulary, mode, trainable):
    (tmp_path / "v.txt").write_text("cat 1 2\ndog 3 4\n")
    layer = TextEmbedding.from_vectors(tmp_path / "v.txt", vocabulary, mode=mode)
    assert layer.vectors_report.found == 2
    assert layer.trainable is trainable
    model = keras.Sequential([keras.Input((None,), dtype="int32"), layer])
    ids = np.array([[vocabulary["dog"], 0]])
    np.testing.assert_array_equal(model(ids)[0, 0], [3, 4])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded(ids), model(ids))
    assert loaded.layers[0].trainable is trainable
    with pytest.raises(ValueError, match="rand"):
        TextEmbedding.from_vectors(tmp_path / "v.txt", vocabulary, mode="rand")
