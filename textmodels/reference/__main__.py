"""``python -m textmodels.reference --check``: the NumPy RNN's loss and every gradient against Keras autodiff."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from textmodels.reference.gradient_diagnostics import KERAS_TOLERANCE, compare_with_keras


def main(argv: Sequence[str] | None = None) -> int:
    """``--check``: compare the NumPy loss and gradients with Keras; print a table; return 1 when any differs.

    Example:
        >>> main(["--check", "--hidden", "3", "--steps", "4", "--vocab", "5"])  # doctest: +ELLIPSIS
        parameter ...
        0
    """
    parser = argparse.ArgumentParser(prog="python -m textmodels.reference", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare loss and gradients with Keras autodiff")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hidden", type=int, default=8, help="hidden units")
    parser.add_argument("--steps", type=int, default=10, help="time steps")
    parser.add_argument("--vocab", type=int, default=6, help="vocabulary size")
    args = parser.parse_args(argv)
    if not args.check:
        parser.print_help()
        return 0
    diffs = compare_with_keras(seed=args.seed, hidden=args.hidden, steps=args.steps, vocab=args.vocab)
    print(f"{'parameter':<10} {'max |numpy - keras|':>20}  ok")
    for name, diff in diffs.items():
        print(f"{name:<10} {diff:>20.3e}  {'yes' if diff <= KERAS_TOLERANCE else 'NO'}")
    return 0 if max(diffs.values()) <= KERAS_TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
