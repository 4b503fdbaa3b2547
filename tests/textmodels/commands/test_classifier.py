"""The classifier scripts: train-classifier (progress, checkpoints, --resume, best model to --out), classify
(arguments, --file, stdin, --json, bad lines answered around) and evaluate (--json), and their clear errors."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from textmodels.cli import main
from textmodels.commands.text_inputs import read_text_inputs

pytestmark = pytest.mark.all_backends

POSITIVE = ["good", "great", "lovely", "fun", "superb"]
NEGATIVE = ["bad", "dull", "awful", "boring", "poor"]
FILLER = ["the", "film", "plot", "was", "a", "really", "cast"]


def write_dataset(path: Path, n: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    lines = ["review\tsentiment"]
    for _ in range(n):
        label = rng.choice(["pos", "neg"])
        words = list(rng.choice(FILLER, 4)) + [rng.choice(POSITIVE if label == "pos" else NEGATIVE)]
        lines.append(" ".join(rng.permutation(words)) + f"\t{label}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    train, val = write_dataset(root / "train.tsv", 160, 0), write_dataset(root / "val.tsv", 60, 1)
    model = root / "model.keras"
    code = main(["train-classifier", str(train), "--val", str(val), "--out", str(model), "--epochs", "4",
                 "--units", "8", "--embedding-dim", "8", "--dropout", "0.1", "--learning-rate", "0.02",
                 "--pooling", "attention"])
    assert code == 0
    return root, model


def test_training_writes_the_model_checkpoints_and_learns(workspace, capsys):
    root, model = workspace
    run = root / "model.run"
    assert model.is_file() and (run / "last.keras").is_file() and (run / "best.keras").is_file()
    state = json.loads((run / "state.json").read_text())
    assert state["epoch"] == 4 and len(state["history"]["val_loss"]) == 4
    assert main(["evaluate", str(model), str(root / "val.tsv"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["accuracy"] > 0.8 and 0 <= report["macro_f1"] <= 1 and report["labels"] == ["neg", "pos"]


def test_resume_continues_from_the_last_epoch(workspace, capsys):
    root, model = workspace
    assert main(["train-classifier", str(root / "train.tsv"), "--val", str(root / "val.tsv"), "--out", str(model),
                 "--epochs", "5", "--resume"]) == 0
    assert "resumed after epoch 4" in capsys.readouterr().out
    state = json.loads((root / "model.run" / "state.json").read_text())
    assert state["epoch"] == 5
    # --out is the best epoch's checkpoint itself, copied: not a reloaded, re-saved model.
    assert model.read_bytes() == (root / "model.run" / "best.keras").read_bytes()


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path, capsys):
    data = write_dataset(tmp_path / "d.tsv", 10, 0)
    assert main(["train-classifier", str(data), "--out", str(tmp_path / "m.keras"), "--resume"]) == 2
    assert "Cannot resume: no checkpoint" in capsys.readouterr().err


def test_classify_prints_label_probability_text_and_answers_around_bad_lines(workspace, tmp_path, capsys):
    _, model = workspace
    lines = tmp_path / "lines.txt"
    lines.write_bytes(b"a superb film\n\nan awful plot\ncaf\xe9 bad\n")
    assert main(["classify", str(model), "the cast was great", "--file", str(lines)]) == 1
    captured = capsys.readouterr()
    rows = [line.split("\t") for line in captured.out.splitlines()]
    assert [row[2] for row in rows] == ["the cast was great", "a superb film", "an awful plot"]
    assert [row[0] for row in rows] == ["pos", "pos", "neg"]
    assert all(0.5 <= float(row[1]) <= 1 for row in rows)
    assert f"{lines}:2: empty text" in captured.err and f"{lines}:4: not valid UTF-8" in captured.err


def test_classify_json_from_stdin(workspace, monkeypatch, capsys):
    _, model = workspace
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"boring plot\nlovely\n")))
    assert main(["classify", str(model), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["label"] for r in records] == ["neg", "pos"]
    assert [r["source"] for r in records] == ["<stdin>:1", "<stdin>:2"]
    assert records[0]["probabilities"]["neg"] == pytest.approx(records[0]["probability"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "{model}", "{root}/missing.tsv"], "missing.tsv: no such file or folder"),
        (["evaluate", "{model}", "{root}/nolabel.tsv"], "not both a text and a label column"),
        (["evaluate", "{model}", "{root}/unseen.tsv"], "Label 'neutral'"),
        (["classify", "{root}/train.tsv", "text"], "not a .keras model archive"),
        (["classify", "{root}/foreign.keras", "text"], "Sequential"),
        (["train-classifier", "{root}/train.tsv", "--out", "{root}/m.txt"], "must end in .keras"),
    ],
)
def test_bad_input_gives_one_line_errors(workspace, argv, message, capsys):
    root, model = workspace
    (root / "nolabel.tsv").write_text("review\tscore\ngood\t5\n")
    (root / "unseen.tsv").write_text("review\tsentiment\ngood\tpos\nmeh\tneutral\n")
    if not (root / "foreign.keras").exists():
        import keras

        keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).save(root / "foreign.keras")
    assert main([part.format(root=root, model=model) for part in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_read_text_inputs_marks_undecodable_lines():
    inputs = read_text_inputs(["-"], None, stdin=io.BytesIO(b"ok\n\xff\xfe\n"))
    assert [(i.text, i.error is None) for i in inputs] == [("ok", True), (None, False)]


def test_console_script_help_lists_the_commands():
    script = Path(sys.executable).with_name("textmodels")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ("train-classifier", "classify", "evaluate", "train-tagger", "tag"):
        assert command in result.stdout


@pytest.fixture(scope="module")
def language_model_file(tmp_path_factory):
    from textmodels.language_model import LanguageModel, fit_lm_encoder

    corpus = " ".join(POSITIVE + NEGATIVE + FILLER) + "\n"
    model = LanguageModel(fit_lm_encoder(corpus), embedding_dim=8, units=8, layers=1)
    model.build((None, None))
    path = tmp_path_factory.mktemp("lm") / "lm.keras"
    model.save(path)
    return path


def test_init_from_a_language_model_reports_the_transfer(workspace, language_model_file, tmp_path, capsys):
    root, _ = workspace
    out = tmp_path / "pretrained.keras"
    assert main(["train-classifier", str(root / "train.tsv"), "--out", str(out), "--epochs", "2",
                 "--init-from", str(language_model_file), "--gradual-unfreezing", "--layer-rate-decay", "2.6"]) == 0
    err = capsys.readouterr().err
    assert f"Initialised embedding, recurrent/lstm_0 from {language_model_file}" in err
    assert "0 new words start fresh; the language model knows 100.0% of the training tokens" in err
    assert out.is_file()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--init-from", "{model}"], "holds a TextRNN model, not a language model"),
        (["--init-from", "{root}/train.tsv"], "not a .keras model archive"),
        (["--init-from", "{lm}", "--units", "16"], "has 8 units per layer but this classifier asks for 16"),
        (["--init-from", "{lm}", "--optimizer", "sgd", "--gradual-unfreezing"], "per-layer Adam"),
        (["--lm-epochs", "1"], "give init_from too"),
    ],
)
def test_init_from_errors_are_one_line(workspace, language_model_file, tmp_path, extra, message, capsys):
    root, model = workspace
    argv = ["train-classifier", str(root / "train.tsv"), "--out", str(tmp_path / "m.keras")]
    argv += [part.format(root=root, model=model, lm=language_model_file) for part in extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
