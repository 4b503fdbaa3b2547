"""What every training command does around the library's training path (`textmodels.training.train_in_run`,
through ``fit_in_run``, ``train_language_model`` or ``train_captioner``): select ``--distribute`` and seed Keras
before anything else, and say where the model went.

Example (what ``train-tagger`` does, in short)::

    distribution = start_training(args)
    trained = fit_in_run(SequenceTagger(...), train, validation, args, distribution)
    if worker_is_chief(args, distribution):
        print(f"Wrote {args.out} ({provenance(trained)})")
"""

from __future__ import annotations

from textmodels.commands import options


def start_training(args):
    """Selects ``--distribute`` (a multi-worker strategy must exist before any other TensorFlow work) and seeds
    Keras with ``--seed``; returns the `textmodels.training.distribution.Distribution`."""
    import keras

    from textmodels.training.distribution import select_distribution

    distribution = select_distribution(args.distribute)
    keras.utils.set_random_seed(args.seed)
    return distribution


def fit_in_run(estimator, data, validation, args, distribution, **fit_options):
    """``estimator.fit_in_run`` (a classifier or tagger, `LabeledTextEstimator.fit_in_run`) with the training
    options of ``args``: ``--run-dir``, ``--out``, ``--resume``, ``--epochs``, ``--patience``, ``--quiet``;
    ``fit_options`` go to ``fit_in_run`` as they are."""
    return estimator.fit_in_run(data, args.run_dir, validation=validation, epochs=args.epochs, out=args.out,
                                resume=args.resume, patience=options.patience(args), verbose=0 if args.quiet else 1,
                                distribution=distribution, **fit_options)


def worker_is_chief(args, distribution) -> bool:
    """True on the worker that writes ``--out`` (every run without ``--distribute``); the others say so."""
    if not distribution.is_chief:
        print(f"Worker {distribution.worker_index} of {distribution.num_workers} done; the chief writes {args.out}.")
    return distribution.is_chief


def provenance(trained) -> str:
    """Where the model written to ``--out`` comes from, for the command's last line.

    Example:
        >>> from pathlib import Path
        >>> from types import SimpleNamespace
        >>> provenance(SimpleNamespace(source=Path("m.run/best.keras"), resumed_after=2))
        'from best.keras; resumed after epoch 2'
    """
    text = f"from {trained.source.name}"
    return text + (f"; resumed after epoch {trained.resumed_after}" if trained.resumed_after else "")
