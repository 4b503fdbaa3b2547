"""Subcommands of the ``textmodels`` command; each module exposes ``register(subparsers)``."""
