"""The train-lm / generate / perplexity commands, end to end, and their error messages."""

from __future__ import annotations

import json

import pytest

from textmodels.cli import main

pytestmark = pytest.mark.all_backends

CORPUS = "the cat sat on the mat\nthe dog sat on the log\na cat saw a dog\n" * 30


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lm_cli")
    corpus = folder / "corpus.txt"
    corpus.write_text(CORPUS)
    model = folder / "model.keras"
    code = main(["train-lm", str(corpus), "--out", str(model), "--level", "word", "--units", "32", "--layers", "1",
                 "--num-steps", "10", "--batch-size", "8", "--epochs", "3", "--learning-rate", "0.01",
                 "--val", str(corpus)])
    assert code == 0
    return folder, corpus, model


def test_train_perplexity_and_generate(trained, capsys):
    folder, corpus, model = trained
    capsys.readouterr()
    assert (folder / "model.run" / "last.keras").is_file()
    assert main(["perplexity", str(model), str(corpus), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {"perplexity", "tokens"} and "bits_per_char" not in result
    assert result["tokens"] == len(CORPUS.split()) + CORPUS.count("\n") - 1
    # The model learned something: far better than a uniform guess over its 13-token vocabulary.
    assert 1.0 < result["perplexity"] < 6.0
    assert main(["perplexity", str(model), str(corpus)]) == 0
    assert capsys.readouterr().out.startswith("perplexity ")
    arguments = ["generate", str(model), "--prime", "the cat", "--seed", "3", "--max-tokens", "8"]
    assert main(arguments) == 0
    first = capsys.readouterr().out
    assert main(arguments) == 0
    assert capsys.readouterr().out == first and first.startswith("the cat")
    assert "<unk>" not in first
    assert main([*arguments, "--beam-size", "3"]) == 0
    assert capsys.readouterr().out.startswith("the cat")


def test_char_model_reports_bits_per_char(tmp_path, capsys):
    corpus = tmp_path / "chars.txt"
    corpus.write_text("abcabd\n" * 40)
    model = tmp_path / "chars.keras"
    assert main(["train-lm", str(corpus), "--out", str(model), "--level", "char", "--units", "16", "--layers", "1",
                 "--num-steps", "8", "--batch-size", "4", "--epochs", "1"]) == 0
    capsys.readouterr()
    assert main(["perplexity", str(model), str(corpus), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["bits_per_char"] == pytest.approx(result["nats_per_token"] / 0.6931471805599453)


@pytest.mark.parametrize(
    "options, message",
    [(["--temperature", "-1"], "--temperature: must be a number >= 0"),
     (["--top-p", "0"], "--top-p: must be in (0, 1], got 0"), (["--top-p", "1.01"], "--top-p: must be in (0, 1]"),
     (["--top-k", "0"], "--top-k: must be a positive integer"),
     (["--max-tokens", "0"], "--max-tokens: must be a positive integer")],
)
def test_sampling_arguments_are_checked_before_the_model_is_loaded(tmp_path, capsys, options, message):
    # The model file does not even exist: the sampling error must come first.
    assert main(["generate", str(tmp_path / "missing.keras"), *options]) == 2
    assert message in capsys.readouterr().err


def test_clear_errors_for_bad_files(trained, tmp_path, capsys):
    folder, corpus, model = trained
    (tmp_path / "fake.keras").write_text("not a model")
    assert main(["perplexity", str(tmp_path / "fake.keras"), str(corpus)]) == 2
    assert "fake.keras: not a .keras model archive" in capsys.readouterr().err
    (tmp_path / "empty.txt").write_text("")
    assert main(["train-lm", str(tmp_path / "empty.txt"), "--out", str(tmp_path / "m.keras")]) == 2
    assert "the corpus is empty" in capsys.readouterr().err
    (tmp_path / "bad.txt").write_bytes(b"fine\n\xff\xfe broken\n")
    assert main(["perplexity", str(model), str(tmp_path / "bad.txt")]) == 2
    assert "line 2: byte offset 5 is not valid utf-8" in capsys.readouterr().err
    (tmp_path / "short.txt").write_text("the cat\n")
    assert main(["train-lm", str(tmp_path / "short.txt"), "--out", str(tmp_path / "m.keras")]) == 2
    assert "shorter than one window" in capsys.readouterr().err
    assert main(["generate", str(model), "--prime", "zebra"]) == 2
    assert "no token in the model's vocabulary" in capsys.readouterr().err
