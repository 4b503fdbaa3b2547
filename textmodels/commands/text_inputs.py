"""Texts for ``classify`` and ``tag``: from the arguments, a file and standard input, each line decoded on its
own so that one undecodable line is reported while the others are still answered."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textmodels.errors import ConfigurationError


@dataclass
class TextInput:
    """One input line for classify / tag: its text, or why it could not be read.

    Example:
        >>> TextInput("<stdin>:3", None, "not valid UTF-8 (byte 4)").error
        'not valid UTF-8 (byte 4)'
    """

    source: str
    text: str | None
    error: str | None = None


def read_text_inputs(texts: list[str], file: str | None, stdin=None) -> list[TextInput]:
    """Texts from arguments, then ``file``, then standard input (when no texts are given or one is ``-``).
    Lines that are not valid UTF-8 become inputs with an ``error`` naming the file and line.

    Example:
        >>> import io
        >>> [(i.source, i.text, i.error) for i in read_text_inputs(["-"], None, stdin=io.BytesIO(b"fine\\n\\xff"))]
        [('<stdin>:1', 'fine', None), ('<stdin>:2', None, 'not valid UTF-8 (byte 0)')]
    """
    inputs = [TextInput(f"argument {i + 1}", text) for i, text in enumerate(texts) if text != "-"]
    if file is not None:
        path = Path(file)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        inputs.extend(_decode_lines(path.read_bytes(), str(path)))
    if "-" in texts or (not texts and file is None):
        stream = stdin if stdin is not None else sys.stdin.buffer
        inputs.extend(_decode_lines(stream.read(), "<stdin>"))
    if not inputs:
        raise ConfigurationError("No texts given: pass them as arguments, with --file, or on standard input.")
    return inputs


def _decode_lines(raw: bytes, source: str) -> list[TextInput]:
    inputs = []
    for number, line in enumerate(raw.splitlines(), start=1):
        try:
            inputs.append(TextInput(f"{source}:{number}", line.decode("utf-8")))
        except UnicodeDecodeError as error:
            inputs.append(TextInput(f"{source}:{number}", None, f"not valid UTF-8 (byte {error.start})"))
    return inputs


def add_text_arguments(parser, verb: str) -> None:
    """``TEXT ...``, ``--file`` and ``--json``: where `answer_texts` reads its texts and how it prints."""
    parser.add_argument("texts", nargs="*", help=f"texts to {verb} ('-' reads standard input)")
    parser.add_argument("--file", help="read texts from this file, one per line")
    parser.add_argument("--json", action="store_true", help="print a JSON list of records instead")


def answer_texts(args, respond: Callable, unreadable: dict, show: Callable) -> int:
    """Answers every input of ``args`` (see `read_text_inputs`): the readable texts all at once through
    ``respond(texts) -> records`` (dicts with an ``error``, None when answered), an unreadable line as a copy of
    ``unreadable`` with its error; each record gets its ``source``, and errors name it. Prints the records as
    JSON (``--json``) or one ``show(record)`` line each, errors on stderr; returns 1 when some input failed.

    Example:
        >>> import argparse
        >>> args = argparse.Namespace(texts=["hi", "there"], file=None, json=False)
        >>> answer_texts(args, lambda texts: [{"length": len(t), "error": None} for t in texts], {},
        ...              lambda record: f"{record['source']}: {record['length']}")
        argument 1: 2
        argument 2: 5
        0
    """
    inputs = read_text_inputs(args.texts, args.file)
    answers = iter(respond([item.text for item in inputs if item.error is None]))
    records = []
    for item in inputs:
        record = dict(unreadable, error=item.error) if item.error is not None else dict(next(answers))
        record["source"] = item.source
        if record["error"]:
            record["error"] = f"{item.source}: {record['error']}"
        records.append(record)
    if args.json:
        print(json.dumps(records, ensure_ascii=False, indent=2))
    else:
        for record in records:
            if record["error"]:
                print(f"error: {record['error']}", file=sys.stderr)
            else:
                print(show(record))
    return 1 if any(record["error"] for record in records) else 0
