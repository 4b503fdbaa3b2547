"""The ``textmodels`` command: a thin dispatcher over the subcommand modules in `textmodels.commands`.

Each command module exposes ``register(subparsers)``, adding subcommands whose handler (``set_defaults(handler=
...)``) takes the parsed arguments and returns an exit code. Handlers import TensorFlow lazily, so ``--help`` is
fast. Bad input (a `textmodels.errors.TextmodelsError`, or an `OSError` for files and disks) is printed as one
line, ``error: ...``, with exit code 2: users see what is wrong, not a traceback. Any other exception is a bug
and keeps its traceback. The options shared between commands live in `textmodels.commands.options`. Options
may come anywhere among a subcommand's arguments (intermixed parsing), and every subcommand is quiet about
TensorFlow's own log lines unless given ``--verbose`` (`textmodels.commands.quiet_logs`); the commands that
show progress also take ``--quiet``.

Example:
    >>> main(["--version"]) == 0
    textmodels 0.1.0
    True
"""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
import warnings
from collections.abc import Callable, Sequence

from textmodels import __version__
from textmodels.commands.options import add_verbose_option
from textmodels.commands.quiet_logs import quiet_tensorflow
from textmodels.errors import TextmodelsError
from textmodels.keras_backend import check_keras_backend

COMMAND_MODULES = (
    "textmodels.commands.classifier",
    "textmodels.commands.tagger",
    "textmodels.commands.evaluate",
    "textmodels.commands.language_model",
)
USER_ERRORS = (TextmodelsError, OSError)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    # The project's warnings are meant for users (photos left out, data skipped): one line, no source excerpt.
    print(f"warning: {message}", file=file or sys.stderr)


class IntermixedArgumentParser(argparse.ArgumentParser):
    """A subcommand parser that takes options anywhere, before, between or after the positional arguments
    (``classify MODEL --json "a" "b"``), through argparse's intermixed parsing."""

    _intermixing = False

    def parse_known_args(self, args=None, namespace=None):
        if self._intermixing:  # the intermixed parse itself calls back here: parse plainly then
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def build_parser(prog: str, description: str, command_modules: Sequence[str]) -> argparse.ArgumentParser:
    """The argparse parser of a command whose subcommands live in ``command_modules`` (each module's
    ``register(subparsers)`` adds its own); every subcommand gets ``--verbose``.

    Example:
        >>> parser = build_parser("textmodels", "Text models.", COMMAND_MODULES)
        >>> parser.parse_args(["perplexity", "lm.keras", "text.txt", "--verbose"]).verbose
        True
    """
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=IntermixedArgumentParser)
    for name in command_modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue  # a command module not written yet: its subcommands are simply absent
        module.register(subparsers)
    for command in subparsers.choices.values():
        if "--verbose" not in command._option_string_actions:  # serve has its own, which shows them too
            add_verbose_option(command)
    return parser


def make_main(prog: str, version: str, description: str, command_modules: Sequence[str],
              user_errors: tuple[type[Exception], ...] = USER_ERRORS) -> Callable:
    """Builds a ``main(argv=None) -> int`` for a command whose subcommands live in ``command_modules``; the
    exceptions in ``user_errors`` are reported as one line (exit code 2), any other keeps its traceback.
    ``main.parser()`` builds its argparse parser (for documentation and tests)."""

    def main(argv: Sequence[str] | None = None) -> int:
        parser = build_parser(prog, description, command_modules)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exit:  # --help, --version-like exits and usage errors (argparse prints them)
            return int(exit.code or 0)
        if args.version:
            print(f"{prog} {version}")
            return 0
        if not hasattr(args, "handler"):
            parser.print_help()
            return 2
        if not getattr(args, "verbose", False):
            quiet_tensorflow()
        warnings.showwarning = _show_warning
        try:
            check_keras_backend()  # before any handler imports Keras, which fixes the backend on import
            return int(args.handler(args) or 0)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except user_errors as error:
            print(f"error: {error}", file=sys.stderr)
            return 2

    main.parser = functools.partial(build_parser, prog, description, command_modules)
    return main


main = make_main(
    "textmodels",
    __version__,
    "Train and run recurrent text classifiers, taggers and language models.",
    COMMAND_MODULES,
)

if __name__ == "__main__":
    sys.exit(main())
