"""Subcommands of the ``captioner`` command; each module exposes ``register(subparsers)``."""
