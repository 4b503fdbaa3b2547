"""Writes docs/cli.md, the reference of both command lines, from their argparse parsers.

Run it after changing a command or an option:

    .venv/bin/python tools/cli_reference.py

Every subcommand of ``textmodels`` and ``captioner`` is listed with its description and every argument with its
help text, choices and default, in the order ``--help`` shows them; an option without a help text is marked so.
Hidden options (``argparse.SUPPRESS``: the spellings of earlier releases) and ``-h/--help`` are left out.
``tests/test_cli_reference.py`` fails when docs/cli.md differs from what this writes.

The generator lives here rather than in a package: it reads both CLIs, and ``textmodels`` must never import
``captioner``; it is a development tool, so it stays out of the installed wheel.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
OUTPUT = REPOSITORY / "docs" / "cli.md"
REGENERATE = ".venv/bin/python tools/cli_reference.py"
NO_HELP = "*(no help text)*"


def command_parsers() -> dict[str, argparse.ArgumentParser]:
    """The top-level parser of each command line, by program name."""
    from captioner.cli import main as captioner_main
    from textmodels.cli import main as textmodels_main

    return {"textmodels": textmodels_main.parser(), "captioner": captioner_main.parser()}


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """A parser's subcommands, by name, in the order they were registered."""
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def subcommand_help(parser: argparse.ArgumentParser) -> dict[str, str]:
    """The one-line ``help`` each subcommand was registered with (what ``PROG --help`` lists)."""
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update({choice.dest: choice.help or "" for choice in action._choices_actions})
    return found


def documented_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The arguments a user can give, positional first as in ``--help``; hidden ones and ``--help`` left out."""
    actions = [action for action in parser._actions
               if action.help is not argparse.SUPPRESS and not isinstance(action, argparse._HelpAction)]
    return [action for action in actions if not action.option_strings] + \
           [action for action in actions if action.option_strings]


def _metavar(action: argparse.Action) -> str:
    if action.metavar is not None:
        return action.metavar if isinstance(action.metavar, str) else " ".join(action.metavar)
    if action.choices is not None:
        return "{" + ",".join(str(choice) for choice in action.choices) + "}"
    return action.dest if not action.option_strings else action.dest.upper()


def invocation(action: argparse.Action) -> str:
    """How the argument is written: ``DATA``, ``IMAGE [IMAGE ...]``, ``--out OUT``, ``--json``."""
    if action.nargs == 0:
        return ", ".join(action.option_strings)
    name = _metavar(action)
    value = {None: name, "?": f"[{name}]", "*": f"[{name} ...]", "+": f"{name} [{name} ...]"}.get(
        action.nargs, " ".join([name] * action.nargs) if isinstance(action.nargs, int) else f"{name} ...")
    return ", ".join(f"{option} {value}" for option in action.option_strings) if action.option_strings else value


def help_text(action: argparse.Action, prog: str) -> str:
    """The help text with argparse's ``%(default)s``-style fields filled in, or the no-help mark."""
    if not action.help:
        return NO_HELP
    fields = dict(vars(action), prog=prog)
    if fields.get("choices") is not None:
        fields["choices"] = ", ".join(str(choice) for choice in fields["choices"])
    return action.help % fields


def default_text(action: argparse.Action) -> str:
    """The default as a user would type it; required arguments and flags say so."""
    if not action.option_strings:
        return "required" if action.nargs not in ("?", "*") else "optional"
    if action.required:
        return "required"
    if action.nargs == 0:
        return "off" if action.default in (False, None) else "on"
    if action.default is None or action.default is argparse.SUPPRESS:
        return "—"
    if isinstance(action.default, (list, tuple)):  # typed as the option takes it: spaced items or N,N,...
        separator = " " if action.nargs in ("*", "+") else ","
        return f"`{separator.join(str(item) for item in action.default)}`" if action.default else "—"
    return f"`{action.default}`"


def table_cell(text: str) -> str:
    """One line of a Markdown table cell: whitespace collapsed, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _anchor(prog: str, name: str) -> str:
    return f"{prog}-{name}".lower()


def render() -> str:
    """The whole of docs/cli.md."""
    parsers = command_parsers()
    lines = [
        "# Command-line reference",
        "",
        f"Generated from the argparse parsers by `{REGENERATE}`: do not edit by hand "
        "(`tests/test_cli_reference.py` fails when this page is stale). Every command also takes `-h/--help`; "
        "options may come before, between or after the positional arguments.",
        "",
    ]
    for prog, parser in parsers.items():
        links = ", ".join(f"[{name}](#{_anchor(prog, name)})" for name in subcommands(parser))
        lines.append(f"- **`{prog}`**: {links}")
    for prog, parser in parsers.items():
        lines += ["", f"## {prog}", "", parser.description or "", ""]
        summaries = subcommand_help(parser)
        for name, command in subcommands(parser).items():
            lines += [f"### `{prog} {name}`", ""]  # GitHub's anchor for this heading is _anchor(prog, name)
            lines += [table_cell(command.description or summaries.get(name) or NO_HELP), ""]
            lines += ["| argument | meaning | default |", "|---|---|---|"]
            for action in documented_actions(command):
                lines.append(f"| `{table_cell(invocation(action))}` | {table_cell(help_text(action, command.prog))} | "
                             f"{default_text(action)} |")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def options_without_help() -> list[str]:
    """``PROG COMMAND --option`` for every documented argument that has no help text."""
    missing = []
    for prog, parser in command_parsers().items():
        for name, command in subcommands(parser).items():
            missing += [f"{prog} {name} {invocation(action)}" for action in documented_actions(command)
                        if not action.help]
    return missing


def main() -> int:
    """Writes docs/cli.md and says how many arguments still lack a help text."""
    OUTPUT.write_text(render(), encoding="utf-8")
    missing = options_without_help()
    print(f"wrote {OUTPUT.relative_to(REPOSITORY)}; {len(missing)} arguments without help text")
    for item in missing:
        print(f"  {item}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPOSITORY))
    sys.exit(main())
