"""The commands print no TensorFlow log line unless ``--verbose`` (`textmodels.commands.quiet_logs`), in a fresh
process, also when reading a pipe or standard input."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.all_backends


def test_commands_read_pipes_and_standard_input_and_print_no_tensorflow_log_lines(world):
    """``perplexity`` on ``-`` (standard input) in a fresh process: the score, and not one TensorFlow log line
    even with TF_CPP_MIN_LOG_LEVEL=2 (``--verbose`` brings them back)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    command = [sys.executable, "-m", "textmodels.cli", "perplexity", str(world.language_model), "-"]
    result = subprocess.run(command, input="the cat sat\n", env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.startswith("perplexity "), result.stderr
    assert result.stderr == "", result.stderr


def test_help_prints_no_log_lines():
    result = subprocess.run(
        [sys.executable, "-m", "captioner.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr == "" and "usage: captioner" in result.stdout
