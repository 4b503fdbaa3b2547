"""One name and one meaning per option across the textmodels and captioner commands: --help shows the shared
names, the old spellings still work with a warning, --clipnorm 0 means no clipping everywhere, --out receives
the best epoch, and only bad input (not a bug) becomes a one-line error."""

from __future__ import annotations

import argparse
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


def _subcommands(entry):
    """``(command name, subparser)`` of every subcommand of ``entry``'s parser."""
    parser = entry.parser()
    (subparsers,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return list(subparsers.choices.items())


ENTRIES = [("textmodels", main), ("captioner", captioner_main)]


def test_every_option_and_argument_of_both_commands_has_help():
    missing, seen = [], 0
    for prog, entry in ENTRIES:
        for name, command in _subcommands(entry):
            for action in command._actions:
                if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
                    continue  # -h, and the deprecated spellings, which --help hides
                seen += 1
                if not action.help:
                    missing.append(f"{prog} {name} {'/'.join(action.option_strings) or action.dest}")
    assert seen > 200 and missing == []


def test_output_options_are_named_for_what_they_name():
    """``--out`` is a file and ``--out-dir`` a folder wherever they appear; ``--quiet`` and ``--verbose`` say
    what they hide or show."""
    for prog, entry in ENTRIES:
        for name, command in _subcommands(entry):
            actions = command._option_string_actions
            if "--out" in actions and actions["--out"].help != argparse.SUPPRESS:
                assert actions["--out"].metavar.endswith(".keras"), f"{prog} {name}"
            if "--out-dir" in actions:
                assert actions["--out-dir"].metavar == "DIR", f"{prog} {name}"
            assert "TensorFlow's own log lines" in actions["--verbose"].help, f"{prog} {name}"
            if "--quiet" in actions:
                assert "no progress bars" in actions["--quiet"].help, f"{prog} {name}"
    training = {name for _, entry in ENTRIES for name, command in _subcommands(entry)
                if "--quiet" in command._option_string_actions}
    assert {"train-classifier", "train-tagger", "train-lm", "train", "extract-features", "demo"} <= training


def test_the_feature_cache_is_features_in_both_captioner_commands():
    commands = dict(_subcommands(captioner_main))
    for name in ("extract-features", "train"):
        assert "--features" in commands[name]._option_string_actions, name


def test_defaults_come_from_the_python_api():
    """train-lm takes train_language_model's defaults, train-tagger SequenceTagger's, captioner train
    CaptionerConfig's: one value, in one place."""
    import dataclasses
    import inspect

    from captioner.config import CaptionerConfig
    from textmodels.language_model.config import LM_DEFAULTS
    from textmodels.language_model.training import train_language_model
    from textmodels.tagging import SequenceTagger
    from textmodels.tagging.config import TAGGER_DEFAULTS

    def cli_defaults(entry, command, argv):
        return vars(entry.parser().parse_args([command, *argv]))

    lm = cli_defaults(main, "train-lm", ["c.txt", "--out", "m.keras"])
    api = inspect.signature(train_language_model).parameters
    for field in dataclasses.fields(LM_DEFAULTS):
        value = getattr(LM_DEFAULTS, field.name)
        assert api[field.name].default == value, field.name
        cli = lm[{"max_vocabulary": "max_vocab"}.get(field.name, field.name)]
        assert cli == (value or 0 if field.name in ("patience", "clipnorm") else value), field.name  # 0: None
    assert lm["epochs"] == 13 and lm["num_steps"] == 20

    tagger = cli_defaults(main, "train-tagger", ["treebank.zip", "--out", "m.keras"])
    for name, parameter in inspect.signature(SequenceTagger).parameters.items():
        if name in tagger:
            assert tagger[name] == parameter.default, name
    assert tagger["epochs"] == TAGGER_DEFAULTS.epochs == inspect.signature(SequenceTagger.fit).parameters[
        "epochs"].default

    config = CaptionerConfig()
    captioner = cli_defaults(captioner_main, "train", ["c.json", "--images", "i", "--out", "m.keras"])
    for name in ("image_size", "conv_filters", "feature_dim", "embedding_dim", "units", "cell", "layers",
                 "inject", "dropout", "min_count", "max_length", "batch_size", "epochs", "optimizer",
                 "learning_rate", "clipnorm", "patience", "seed", "lr_reduce_factor", "lr_reduce_patience"):
        assert captioner[name] == getattr(config, name), name
    features = cli_defaults(captioner_main, "extract-features", ["c.json", "--images", "i", "--features", "f"])
    for name in ("image_size", "conv_filters", "feature_dim", "batch_size"):
        assert features[name] == getattr(config, name), name
    evaluate = cli_defaults(captioner_main, "evaluate", ["m.keras", "c.json", "--images", "i"])
    assert evaluate["beam_size"] is None  # the decoding settings stored in the model apply


def test_renamed_captioner_options_still_work_with_a_warning(capsys):
    commands = dict(_subcommands(captioner_main))
    data = ["c.json", "--images", "i"]
    assert commands["extract-features"].parse_args([*data, "--cache", "f"]).features == "f"
    assert commands["gallery"].parse_args(["m.keras", *data, "--out", "g"]).out_dir == "g"
    assert commands["export"].parse_args(["m.keras", "exported"]).out_dir == "exported"
    assert commands["make-synthetic"].parse_args(["shapes"]).out_dir == "shapes"
    err = capsys.readouterr().err
    assert "warning: --cache is deprecated; use --features" in err
    assert "warning: --out is deprecated; use --out-dir" in err
    assert err.count("OUT_DIR as a positional argument is deprecated; use --out-dir") == 2
    # Without any spelling of the folder: a one-line error naming the option.
    assert captioner_main(["export", "m.keras"]) == 2
    assert "error: the following argument is required: --out-dir DIR" in capsys.readouterr().err
