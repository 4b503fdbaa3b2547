"""One name and one meaning per option across the textmodels and captioner commands: --help shows the shared
names, the old spellings still work with a warning, --clipnorm 0 means no clipping everywhere, --out receives
the best epoch, and only bad input (not a bug) becomes a one-line error."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import numpy as np
import pytest

from captioner.cli import main as captioner_main
from textmodels.cli import main

TRAINING_COMMANDS = [(main, "train-classifier"), (main, "train-tagger"), (main, "train-lm"),
                     (captioner_main, "train")]


def _help(entry, command) -> str:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        assert entry([command, "--help"]) == 0
    return " ".join(buffer.getvalue().split())  # argparse wraps help lines anywhere


@pytest.mark.parametrize(("entry", "command"), TRAINING_COMMANDS, ids=[name for _, name in TRAINING_COMMANDS])
def test_every_training_command_uses_the_shared_names(entry, command):
    text = _help(entry, command)
    for option in ("--out", "--run-dir", "--resume", "--epochs", "--batch-size", "--patience", "--clipnorm",
                   "--units", "--layers", "--cell", "--learning-rate", "--seed"):
        assert option in text, option
    for old in ("--checkpoint-dir", "--hidden", "--max-vocabulary", "--valid "):
        assert old not in text, old
    assert "0: no clipping" in text and "best epoch" in text


def test_decoding_commands_share_names():
    for entry, command in ((main, "generate"), (captioner_main, "caption")):
        text = _help(entry, command)
        assert "--beam-size" in text and "--temperature" in text and "--seed" in text


CORPUS = "the cat sat on the mat\nthe dog sat on the log\n" * 20


def test_old_spellings_still_work_with_a_warning(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS)
    assert main(["train-lm", str(corpus), "--out", str(tmp_path / "lm.keras"), "--hidden", "8", "--layers", "1",
                 "--num-steps", "5", "--batch-size", "4", "--epochs", "1", "--checkpoint-dir",
                 str(tmp_path / "runs"), "--valid", str(corpus), "--clipnorm", "0"]) == 0
    err = capsys.readouterr().err
    for old, new in (("--hidden", "--units"), ("--checkpoint-dir", "--run-dir"), ("--valid", "--val")):
        assert f"warning: {old} is deprecated; use {new}" in err
    assert (tmp_path / "runs" / "best.keras").is_file() and not (tmp_path / "lm.run").exists()

    from textmodels.language_model import LanguageModel

    model = LanguageModel.load(tmp_path / "runs" / "last.keras", stateless=False)
    assert model.block.units == 8 and model.optimizer.global_clipnorm is None  # --clipnorm 0: no clipping


def test_out_receives_the_best_epoch(tmp_path, capsys):
    import json

    from textmodels.language_model import LanguageModel

    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS)
    assert main(["train-lm", str(corpus), "--out", str(tmp_path / "lm.keras"), "--units", "8", "--layers", "1",
                 "--num-steps", "5", "--batch-size", "4", "--epochs", "3", "--val", str(corpus)]) == 0
    state = json.loads((tmp_path / "lm.run" / "state.json").read_text())
    assert state["best"] == min(state["history"]["val_loss"])
    best, out = LanguageModel.load(tmp_path / "lm.run" / "best.keras"), LanguageModel.load(tmp_path / "lm.keras")
    for a, b in zip(best.get_weights(), out.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert "from best.keras" in capsys.readouterr().out


def test_a_bug_keeps_its_traceback_while_bad_input_is_one_line(tmp_path, monkeypatch, capsys):
    from textmodels.commands import language_model

    def broken(args):
        raise KeyError("internal")

    monkeypatch.setattr(language_model, "score_text", broken)
    with pytest.raises(KeyError, match="internal"):
        main(["perplexity", str(tmp_path / "m.keras"), str(tmp_path / "c.txt")])
    monkeypatch.undo()
    assert main(["perplexity", str(tmp_path / "m.keras"), str(tmp_path / "c.txt")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert main(["train-lm", "corpus.txt", "--out", "m.keras", "--units", "0"]) == 2
    assert "--units: must be a positive integer" in capsys.readouterr().err
