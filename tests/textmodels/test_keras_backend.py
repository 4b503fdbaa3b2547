"""KERAS_BACKEND: an unknown value, or a backend whose package is missing, is one line from every command (exit 2),
never a traceback from inside Keras' import; the supported ones pass."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from captioner.cli import main as captioner_main
from textmodels.cli import main
from textmodels.errors import ConfigurationError
from textmodels.keras_backend import SUPPORTED_BACKENDS, check_keras_backend

pytestmark = pytest.mark.all_backends


@pytest.mark.parametrize("backend", SUPPORTED_BACKENDS)
def test_supported_backends_pass(backend):
    assert check_keras_backend({"KERAS_BACKEND": backend}) == backend


@pytest.mark.parametrize("value", ["mxnet", "JAX", "numpy"])
def test_other_values_are_refused_with_the_choices(value):
    with pytest.raises(ConfigurationError, match=r"tensorflow \(the default\), jax or torch"):
        check_keras_backend({"KERAS_BACKEND": value})


def test_a_missing_backend_package_is_named(monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(ConfigurationError, match="the torch package is not installed"):
        check_keras_backend({"KERAS_BACKEND": "torch"})


@pytest.mark.parametrize(("entry", "argv"), [(main, ["perplexity", "m.keras", "t.txt"]),
                                             (captioner_main, ["caption", "m.keras", "a.jpg"])])
def test_commands_print_one_line(entry, argv, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_BACKEND", "mxnet")
    assert entry(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: KERAS_BACKEND='mxnet'") and err.count("\n") == 1


def test_the_installed_command_fails_before_importing_keras():
    # In a fresh process, as a user runs it: Keras would raise from its own import if it came first.
    code = "import sys; from textmodels.cli import main; sys.exit(main(['perplexity', 'm.keras', 't.txt']))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "KERAS_BACKEND": "mxnet"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: KERAS_BACKEND='mxnet'")
    assert "Traceback" not in result.stderr
