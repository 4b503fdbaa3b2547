"""The command-line options shared by the ``textmodels`` and ``captioner`` commands: one name and one meaning
each, wherever they appear.

Training commands (``train-classifier``, ``train-tagger``, ``train-lm``, ``captioner train``):

- ``--out MODEL.keras``: receives the best epoch (lowest validation loss, or training loss without validation
  data), copied from the run folder once training ends.
- ``--run-dir DIR``: the run folder (a checkpoint after every epoch, the best one, the state to resume from);
  default: ``--out`` with ``.keras`` replaced by ``.run`` (``models/sst2.keras`` -> ``models/sst2.run``). The
  library's `textmodels.training.train_in_run` does all of it, for the commands and the Python API alike.
- ``--resume``: continue the interrupted run in ``--run-dir``.
- ``--epochs``, ``--batch-size``, ``--seed``; ``--patience N``: stop after N epochs without a better validation
  loss (0: never stop early).
- ``--optimizer``, ``--learning-rate`` (default: the optimizer's own), ``--clipnorm C``: rescale gradients
  whose global norm exceeds C (0: no clipping).
- ``--cell``, ``--units`` (recurrent units per layer), ``--layers``, ``--embedding-dim``, ``--dropout``.
- ``--min-count`` (rarer tokens become ``<unk>``), ``--max-vocab`` (vocabulary size cap, reserved ids
  included), ``--max-length`` (longest sequence kept, in tokens).
- ``--val DATA``: validation data; ``--errors strict|replace``: undecodable bytes stop with the line and byte
  offset, or become U+FFFD.
- ``--distribute none|mirrored|multi-worker|data-parallel`` (also ``captioner extract-features``): data-parallel
  training on several devices or machines (`textmodels.training.distribution`); ``--batch-size`` stays the global
  batch.

Decoding commands: ``--beam-size`` (beam search of that width), ``--temperature`` (sampling; 0 = greedy),
``--top-k``, ``--top-p``, ``--seed``; ``--json`` prints JSON instead of text.

Files and folders: ``--out FILE`` always names a file, ``--out-dir DIR`` a folder a command fills
(``captioner gallery``, ``export``, ``make-synthetic``). Output: ``--quiet`` (training and extraction: no progress
bars or per-epoch lines) and ``--verbose`` (every command: TensorFlow's own log lines too).

Spellings of earlier releases (``--checkpoint-dir``, ``--max-vocabulary``, ``--hidden``, ``--valid``,
``--replace-errors``; ``captioner extract-features --cache``, ``gallery --out``; the positional OUT_DIR of
``export`` and ``make-synthetic``) still work for one release, with a warning naming the new one. Nothing here
imports Keras, so ``--help`` stays instant.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_run_options(parser, epochs=5)
    >>> add_optimizer_options(parser)
    >>> args = parser.parse_args(["--out", "models/sst2.keras", "--clipnorm", "0"])
    >>> args.out.as_posix(), args.run_dir, args.epochs, clipnorm(args)
    ('models/sst2.keras', None, 5, None)
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

from textmodels.errors import (
    DROPOUT_RATE,
    NON_NEGATIVE_INT,
    NON_NEGATIVE_NUMBER,
    OPEN_FRACTION,
    POSITIVE_INT,
    POSITIVE_NUMBER,
    PROBABILITY_MASS,
    ConfigurationError,
    Rule,
)

CELLS = ("simple", "gru", "lstm", "peephole_lstm", "coupled_lstm")  # textmodels.layers.CELLS, without Keras
OPTIMIZERS = ("adam", "sgd", "rmsprop")  # textmodels.training.OPTIMIZERS, without Keras
ERROR_MODES = ("strict", "replace")
DISTRIBUTIONS = ("none", "mirrored", "multi-worker", "data-parallel")  # textmodels.training.distribution


def _checked_number(convert, rule: Rule):
    """An argparse ``type``: ``convert(text)``, refused with ``rule``'s words unless it follows the rule (the
    rules are those the Python functions check, `textmodels.errors.check`)."""

    def parse(text: str):
        value = convert(text)
        if not rule.accept(value):
            raise argparse.ArgumentTypeError(f"must be {rule.text}, got {text}")
        return value

    parse.__name__ = convert.__name__  # argparse names the type in "invalid int value" messages
    return parse


# argparse types. Example: positive_int("3") == 3, while positive_int("0") is refused with the rule.
positive_int = _checked_number(int, POSITIVE_INT)
non_negative_int = _checked_number(int, NON_NEGATIVE_INT)
positive_float = _checked_number(float, POSITIVE_NUMBER)
non_negative_float = _checked_number(float, NON_NEGATIVE_NUMBER)
probability = _checked_number(float, DROPOUT_RATE)
open_fraction = _checked_number(float, OPEN_FRACTION)
probability_mass = _checked_number(float, PROBABILITY_MASS)


def positive_int_list(text: str) -> tuple[int, ...]:
    """An argparse ``type``: comma-separated positive integers.

    Example:
        >>> positive_int_list("16,32,64")
        (16, 32, 64)
    """
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"must be comma-separated positive integers, got {text!r}")
    return values


class _DeprecatedAlias(argparse.Action):
    """Stores like the option it stands for, after a warning naming that option."""

    def __init__(self, option_strings, dest, replacement: str, const=None, **kwargs):
        self.replacement = replacement
        super().__init__(option_strings, dest, nargs=0 if const is not None else None, const=const, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"warning: {option_string} is deprecated; use {self.replacement}", file=sys.stderr)
        setattr(namespace, self.dest, self.const if self.const is not None else values)


def add_deprecated_alias(parser, alias: str, replacement: str, dest: str, type=None, const=None) -> None:
    """``alias`` does what ``replacement`` does (hidden from ``--help``), with a deprecation warning.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> _ = parser.add_argument("--units", type=int)
        >>> add_deprecated_alias(parser, "--hidden", "--units", "units", type=int)
        >>> parser.parse_args(["--hidden", "8"]).units  # prints a warning on stderr
        8
    """
    parser.add_argument(alias, dest=dest, type=type, const=const, replacement=replacement, action=_DeprecatedAlias,
                        help=argparse.SUPPRESS)


class _DeprecatedPositional(argparse.Action):
    """An optional positional argument of earlier releases: stores into ``dest`` after a warning naming the option
    that replaced it; absent, it does nothing."""

    def __init__(self, option_strings, dest, replacement: str, **kwargs):
        self.replacement = replacement
        super().__init__(option_strings, dest, nargs="?", **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        if values is None:  # argparse calls an optional positional's action even when it is absent
            return
        print(f"warning: {self.metavar} as a positional argument is deprecated; use {self.replacement} "
              f"{self.metavar}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def add_out_dir_option(parser, help: str, *, old_option: str | None = None, old_positional: bool = False) -> None:
    """``--out-dir DIR``: the folder a command writes. ``old_option`` (e.g. ``--out``) and, with
    ``old_positional``, a trailing ``OUT_DIR`` argument are the deprecated spellings of earlier releases. argparse
    cannot require one of several spellings, so while they last the command checks that a folder was named
    (`required`).

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_out_dir_option(parser, "where the pages go", old_option="--out")
        >>> parser.parse_args(["--out-dir", "gallery"]).out_dir
        'gallery'
    """
    parser.add_argument("--out-dir", metavar="DIR", help=help)
    if old_option is not None:
        add_deprecated_alias(parser, old_option, "--out-dir", "out_dir")
    if old_positional:
        parser.add_argument("out_dir", metavar="OUT_DIR", replacement="--out-dir",
                            action=_DeprecatedPositional, help=argparse.SUPPRESS)


def required(args, dest: str, option: str):
    """The value of a required option that also has a deprecated spelling (argparse would only accept the new
    one); `ConfigurationError` naming ``option`` when neither was given.

    Example:
        >>> required(argparse.Namespace(out_dir="exported"), "out_dir", "--out-dir")
        'exported'
    """
    value = getattr(args, dest, None)
    if value is None:
        raise ConfigurationError(f"the following argument is required: {option}")
    return value


def add_quiet_option(parser) -> None:
    """``--quiet``: the commands that show progress (training, feature extraction, demos) print only their
    results, warnings and errors."""
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars or per-epoch lines: print only results, warnings and errors")


def add_verbose_option(parser, help: str = "also print TensorFlow's own log lines (hidden by default)") -> None:
    """``--verbose``: TensorFlow's own log lines too (every command hides them by default)."""
    parser.add_argument("--verbose", action="store_true", help=help)


def add_run_options(parser, *, epochs: int = 10, batch_size: int = 32, patience: int = 3, seed: int = 0,
                    criterion: str | None = None) -> None:
    """``--out``, ``--run-dir``, ``--resume``, ``--epochs``, ``--batch-size``, ``--patience``, ``--seed``;
    ``criterion`` names what picks the best epoch when it is not the validation loss (e.g. a validation score)."""
    parser.add_argument("--out", type=Path, required=True, metavar="MODEL.keras",
                        help="receives the best epoch's model (" + (f"best {criterion}" if criterion else
                        "lowest validation loss, or training loss without validation data") + ")")
    parser.add_argument("--run-dir", type=Path, metavar="DIR",
                        help="run folder: a checkpoint every epoch, the best one, the state to resume from "
                        "(default: OUT with .keras replaced by .run)")
    add_deprecated_alias(parser, "--checkpoint-dir", "--run-dir", "run_dir", type=Path)
    parser.add_argument("--resume", action="store_true", help="continue the interrupted run in --run-dir")
    parser.add_argument("--epochs", type=positive_int, default=epochs, help=f"most epochs to train (default {epochs})")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size,
                        help=f"examples per training step, over all devices (default {batch_size})")
    parser.add_argument("--patience", type=non_negative_int, default=patience,
                        help=f"stop after this many epochs without a better {criterion or 'validation loss'}; 0: "
                        f"never stop early (default {patience})")
    parser.add_argument("--seed", type=int, default=seed, help=f"seed of initialisation and shuffling (default {seed})")


def add_optimizer_options(parser, *, optimizer: str = "adam", learning_rate: float | None = None,
                          clipnorm: float | None = 5.0) -> None:
    """``--optimizer``, ``--learning-rate``, ``--clipnorm`` (0: no clipping)."""
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=optimizer, help=f"default {optimizer}")
    parser.add_argument("--learning-rate", type=positive_float, default=learning_rate,
                        help=f"default {learning_rate}" if learning_rate is not None else
                        "default: the optimizer's own (1e-3 for adam and rmsprop, 1 for sgd)")
    parser.add_argument("--clipnorm", type=non_negative_float, default=clipnorm or 0.0,
                        help=f"rescale gradients whose global norm exceeds this; 0: no clipping (default "
                        f"{clipnorm or 0})")


def add_network_options(parser, *, cell: str = "lstm", units: int = 64, layers: int = 1,
                        embedding_dim: int | None = 128, dropout: float = 0.0, cells=CELLS,
                        shape_from: str | None = None) -> None:
    """``--cell``, ``--units``, ``--layers``, ``--embedding-dim``, ``--dropout``. With ``shape_from`` (an
    option naming a pretrained model, e.g. ``"--init-from"``) the first four default to None: the value given
    here, or that model's."""

    def default(value):
        return None if shape_from else value

    def shown(value) -> str:
        return f"default {value}" + (f", or the {shape_from} model's" if shape_from else "")

    parser.add_argument("--cell", choices=cells, default=default(cell), help=f"recurrent cell ({shown(cell)})")
    parser.add_argument("--units", type=positive_int, default=default(units),
                        help=f"recurrent units per layer ({shown(units)})")
    parser.add_argument("--layers", type=positive_int, default=default(layers),
                        help=f"recurrent layers ({shown(layers)})")
    parser.add_argument("--embedding-dim", type=positive_int, default=default(embedding_dim),
                        help=f"embedding width ({shown(embedding_dim or '--units')})")
    parser.add_argument("--dropout", type=probability, default=dropout,
                        help=f"dropout rate during training (default {dropout})")


def add_vocabulary_options(parser, *, min_count: int = 1, max_length: int | None = None,
                           max_length_help: str | None = None) -> None:
    """``--min-count``, ``--max-vocab``, ``--max-length`` (``max_length_help``: a command's own words for it)."""
    parser.add_argument("--min-count", type=positive_int, default=min_count,
                        help=f"rarer tokens become <unk> (default {min_count})")
    parser.add_argument("--max-vocab", type=positive_int, help="vocabulary size cap, reserved ids included")
    add_deprecated_alias(parser, "--max-vocabulary", "--max-vocab", "max_vocab", type=positive_int)
    parser.add_argument("--max-length", type=positive_int, default=max_length,
                        help=max_length_help or "longest sequence kept, in tokens"
                        + (f" (default {max_length})" if max_length else ""))


def add_errors_option(parser) -> None:
    """``--errors strict|replace``: what undecodable bytes in a text file do."""
    parser.add_argument("--errors", choices=ERROR_MODES, default="strict",
                        help="undecodable bytes: stop naming the line and byte offset (strict, default) or "
                        "substitute U+FFFD (replace)")
    add_deprecated_alias(parser, "--replace-errors", "--errors replace", "errors", const="replace")


def add_validation_option(parser, help: str) -> None:
    """``--val DATA``."""
    parser.add_argument("--val", metavar="DATA", help=help)
    add_deprecated_alias(parser, "--valid", "--val", "val")


def add_decoding_options(parser, *, beam_size: int | None = 3, temperature: float | None = None,
                         filters: bool = True, beam: bool = True) -> None:
    """``--beam-size`` (unless ``beam`` is False: a command that adds it itself, e.g. with the model's stored
    width as its default), ``--temperature``, ``--seed`` and (with ``filters``) ``--top-k``, ``--top-p``."""
    if beam:
        parser.add_argument("--beam-size", type=positive_int, default=beam_size, help="beam search of this width "
                            "(1 = greedy)" + (f"; default {beam_size}" if beam_size else ""))
    parser.add_argument("--temperature", type=non_negative_float, default=temperature,
                        help="sampling temperature (0 = greedy)" + (f"; default {temperature}" if temperature else ""))
    if filters:
        parser.add_argument("--top-k", type=positive_int, help="sample among the k likeliest tokens only")
        parser.add_argument("--top-p", type=probability_mass,
                            help="sample among the likeliest tokens holding this probability")
    parser.add_argument("--seed", type=int, help="seed of sampling: the same seed gives the same text")


def add_distribute_option(parser) -> None:
    """``--distribute``: how training (or feature extraction) is spread over devices and machines."""
    parser.add_argument("--distribute", choices=DISTRIBUTIONS, default="none",
                        help="none (default); mirrored: this machine's devices (TensorFlow); multi-worker: one "
                        "process per machine, cluster in TF_CONFIG (TensorFlow); data-parallel: the devices of "
                        "every host (JAX; several hosts: KERAS_DISTRIBUTION_* variables)")


def defaults_of(function) -> dict:
    """The default of every parameter of ``function`` that has one: a command whose Python function is light to
    import takes its option defaults from it, so the two never drift.

    Example:
        >>> defaults_of(lambda folder, size=64, seed=0: None)
        {'size': 64, 'seed': 0}
    """
    return {name: parameter.default for name, parameter in inspect.signature(function).parameters.items()
            if parameter.default is not parameter.empty}


def clipnorm(args) -> float | None:
    """``--clipnorm`` as the libraries take it: None for 0 (no clipping).

    Example:
        >>> clipnorm(argparse.Namespace(clipnorm=0.0)), clipnorm(argparse.Namespace(clipnorm=0.25))
        (None, 0.25)
    """
    return args.clipnorm or None


def patience(args) -> int | None:
    """``--patience`` as the libraries take it: None (never stop early) for 0.

    Example:
        >>> patience(argparse.Namespace(patience=3)), patience(argparse.Namespace(patience=0))
        (3, None)
    """
    return args.patience or None
