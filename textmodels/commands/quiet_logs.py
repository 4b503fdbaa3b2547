"""Keep TensorFlow's start-up log lines off the terminal (the commands are quiet unless ``--verbose``), and let
everything else through: the project's own warnings, Python warnings, progress bars.

``TF_CPP_MIN_LOG_LEVEL=3`` silences TensorFlow's C++ logging once absl is initialised, which hides the CUDA
"error" of a machine without a GPU. The lines written while TensorFlow's libraries load (``I0000 ... oneDNN
custom operations are on``, "All log messages before absl::InitializeLog() is called...") come before that and
ignore the variable, so `quiet_tensorflow` makes the first ``import tensorflow`` run with file descriptor 2
pointed at a temporary file, then replays every line of it that is not such a log line.

Example:
    >>> bool(LOG_LINE.match("I0000 00:00:1796205578.728100    4975 cudart_stub.cc:31] Could not find cuda"))
    True
    >>> bool(LOG_LINE.match("warning: 3 photo(s) could not be read"))
    False
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

# absl's C++ log prefix (severity, date, time, thread, file:line]) and its one-line notice before initialisation.
LOG_LINE = re.compile(r"[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\]|WARNING: All log messages before absl::")


def quiet_tensorflow() -> None:
    """Silences TensorFlow's logging for the rest of the process (before TensorFlow is imported: it reads the
    variables once)."""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietImport())


@contextmanager
def _log_lines_filtered() -> Iterator[None]:
    """Everything written to file descriptor 2 inside the block, less absl's log lines, is written after it."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode("utf-8", "replace").splitlines(keepends=True)
                    if not LOG_LINE.match(line)]
            sys.stderr.write("".join(kept))


class _QuietImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` as usual and has it executed inside `_log_lines_filtered`. It stays in place until
    TensorFlow is actually imported: a mere ``importlib.util.find_spec("tensorflow")`` (PyTorch asks, to learn
    whether TensorFlow is installed) must not use it up."""

    def __init__(self):
        self._searching = False

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow" or self._searching:
            return None
        self._searching = True
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self._searching = False
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader, finder=self)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader, finder: _QuietImport):
        self._loader = loader
        self._finder = finder

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        if self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        with _log_lines_filtered():
            self._loader.exec_module(module)

    def __getattr__(self, name):  # resource readers and the rest: the real loader's
        return getattr(self._loader, name)
