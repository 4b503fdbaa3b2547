"""The ``captioner`` command: train, finetune, extract-features, evaluate, gallery, caption, make-synthetic, demo, serve
and export.

A thin dispatcher (`textmodels.cli.make_main`) over the modules in `captioner.commands`; each handler imports
TensorFlow only when it runs, so ``captioner --help`` is instant. Bad input (a `captioner.errors.CaptionerError`,
a `textmodels.errors.TextmodelsError` or an `OSError`) prints as ``error: ...`` (exit 2); anything else is a bug
and keeps its traceback.

Example:
    >>> main(["--version"]) == 0
    captioner 0.1.0
    True
    >>> args = main.parser().parse_args(["caption", "m.keras", "photo.jpg", "--beam-size", "5"])
    >>> args.inputs, args.beam_size
    (['m.keras', 'photo.jpg'], 5)
"""

from __future__ import annotations

import sys

from captioner import __version__
from captioner.errors import CaptionerError
from textmodels.cli import USER_ERRORS, make_main

COMMAND_MODULES = (
    "captioner.commands.demo",
    "captioner.commands.train",
    "captioner.commands.finetune",
    "captioner.commands.features",
    "captioner.commands.evaluate",
    "captioner.commands.gallery",
    "captioner.commands.caption",
    "captioner.commands.synthetic",
    "captioner.commands.serve",
    "captioner.commands.export",
)

DESCRIPTION = "Caption images with a recurrent decoder that receives the image at its first step."


main = make_main("captioner", __version__, DESCRIPTION, COMMAND_MODULES, user_errors=(CaptionerError, *USER_ERRORS))

if __name__ == "__main__":
    sys.exit(main())
