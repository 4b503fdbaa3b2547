"""docs/cli.md is the reference generated from both command lines' parsers by tools/cli_reference.py: it must
list every command and option as they are now."""

import argparse
import importlib.util
import re
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cli_reference():
    spec = importlib.util.spec_from_file_location("cli_reference", REPOSITORY / "tools" / "cli_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_cli_md_is_up_to_date(cli_reference):
    stored = (REPOSITORY / "docs" / "cli.md").read_text(encoding="utf-8")
    assert stored == cli_reference.render(), (
        f"docs/cli.md is stale: the command-line options changed. Regenerate it with `{cli_reference.REGENERATE}` "
        "and commit the result.")


def test_every_command_and_visible_option_is_listed(cli_reference):
    page = cli_reference.render()
    for prog, parser in cli_reference.command_parsers().items():
        for name, command in cli_reference.subcommands(parser).items():
            heading = f"### `{prog} {name}`"
            assert heading in page
            section = page.split(heading, 1)[1].split("\n### ", 1)[0]
            for action in command._actions:
                if action.help is argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
                    # A hidden alias ("--out") may be a prefix of a listed option ("--out-dir DIR").
                    assert not any(re.search(rf"`{re.escape(option)}[` ]", section)
                                   for option in action.option_strings), action
                else:
                    written = cli_reference.table_cell(cli_reference.invocation(action))
                    assert f"`{written}`" in section, (prog, name, action.dest)


def test_rows_show_help_choices_and_defaults(cli_reference):
    parser = argparse.ArgumentParser(prog="tool")
    parser.add_argument("inputs", nargs="+", metavar="IMAGE")
    parser.add_argument("--beam-size", type=int, default=3, help="beam width (default %(default)s)")
    parser.add_argument("--cell", choices=("gru", "lstm"), default="lstm")
    parser.add_argument("--sizes", default=(16, 32), help="filters | per block")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--old", help=argparse.SUPPRESS)
    rows = {cli_reference.invocation(action): (cli_reference.help_text(action, "tool"),
                                              cli_reference.default_text(action))
            for action in cli_reference.documented_actions(parser)}
    assert rows == {
        "IMAGE [IMAGE ...]": (cli_reference.NO_HELP, "required"),
        "--beam-size BEAM_SIZE": ("beam width (default 3)", "`3`"),
        "--cell {gru,lstm}": (cli_reference.NO_HELP, "`lstm`"),
        "--sizes SIZES": ("filters | per block", "`16,32`"),
        "--json": ("print JSON", "off"),
    }
