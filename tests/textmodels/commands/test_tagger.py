"""train-tagger / tag / evaluate on a tagger, on a small synthetic treebank zip (real NLTK reader path)."""

import json
import zipfile

import numpy as np
import pytest

from textmodels.cli import main
from textmodels.commands.tagger import split_files

pytestmark = pytest.mark.all_backends

DETERMINERS, NOUNS = ["The", "A", "Every"], ["dog", "cat", "bird", "man"]
VERBS, ADJECTIVES = ["sees", "likes", "hears"], ["big", "old", "red"]


def sentence(rng) -> str:
    def noun_phrase():
        parts = [f"(DT {rng.choice(DETERMINERS)})"]
        if rng.random() < 0.5:
            parts.append(f"(JJ {rng.choice(ADJECTIVES)})")
        return "(NP " + " ".join(parts) + f" (NN {rng.choice(NOUNS)}))"

    return f"( (S {noun_phrase()} (VP (VBZ {rng.choice(VERBS)}) {noun_phrase()}) (. .)) )"


@pytest.fixture(scope="module")
def treebank(tmp_path_factory):
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("tb") / "treebank.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(1, 9):
            archive.writestr(f"treebank/combined/wsj_{number:04d}.mrg", "\n".join(sentence(rng) for _ in range(12)))
    return path


def test_train_tag_and_evaluate(treebank, tmp_path, capsys):
    model = tmp_path / "pos.keras"
    code = main(["train-tagger", str(treebank), "--out", str(model), "--test-files", "2", "--val-files", "1",
                 "--epochs", "6", "--units", "8", "--embedding-dim", "8", "--min-count", "1",
                 "--learning-rate", "0.03"])
    captured = capsys.readouterr()
    assert code == 0 and model.is_file() and (tmp_path / "pos.run" / "best.keras").is_file()
    assert "held-out token accuracy" in captured.out and "(5 files)" in captured.err

    assert main(["tag", str(model), "The old dog sees a cat .", ""]) == 1
    captured = capsys.readouterr()
    assert captured.out.strip() == "The/DT old/JJ dog/NN sees/VBZ a/DT cat/NN ./."
    assert "argument 2: empty text" in captured.err

    assert main(["evaluate", str(model), str(treebank), "--last-files", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["accuracy"] > 0.9 and report["tokens"] > 100


def test_split_by_files_and_its_errors():
    files = [f"wsj_{i:04d}.mrg" for i in range(10)]
    train, val, test = split_files(files, test_files=3, val_files=2)
    assert (len(train), len(val), len(test)) == (5, 2, 3) and test == files[-3:]
    with pytest.raises(ValueError, match="training needs at least one file"):
        split_files(files, test_files=8, val_files=2)


def test_missing_treebank_is_a_one_line_error(tmp_path, capsys):
    assert main(["train-tagger", str(tmp_path / "none.zip"), "--out", str(tmp_path / "t.keras")]) == 2
    assert "no such treebank zip or folder" in capsys.readouterr().err
