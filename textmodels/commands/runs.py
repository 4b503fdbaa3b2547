"""The skeleton every training command shares: open the run folder, restore or build the model, fit it with
checkpoints, early stopping and the NaN guard, then copy the best epoch to ``--out``.

Example (what ``train-classifier`` does, in short)::

    run = open_run(args)
    data, validation = read_the_data(args)
    classifier, source = train_in_run(run, args, TextClassifier, lambda: TextClassifier(...), data, validation)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from textmodels.commands.options import patience, run_directory


def open_run(args):
    """Selects ``--distribute`` first (a multi-worker strategy must exist before any other TensorFlow work),
    seeds Keras with ``--seed`` and opens the `TrainingRun` in ``--run-dir`` (``--resume`` continues it, and
    fails now, before any data is read, when there is nothing to resume). Workers other than the chief keep
    their run folder in a private temporary folder (`Distribution.run_directory`)."""
    import keras

    from textmodels.training import TrainingRun
    from textmodels.training.distribution import select_distribution

    distribution = select_distribution(args.distribute)
    keras.utils.set_random_seed(args.seed)
    return TrainingRun(distribution.run_directory(run_directory(args), args.resume), resume=args.resume)


def train_in_run(run, args, model_class, build: Callable, train, validation,
                 fit_options: dict | None = None) -> tuple[object, Path]:
    """Restores the model of an interrupted ``run`` (``model_class.from_network``) or builds a new one
    (``build()``), fits it on ``train`` until ``--epochs`` with the run's callbacks (early stopping on the
    validation loss with ``--patience`` when there is validation data), then copies the best epoch to ``--out``.
    Returns the model and the checkpoint copied. Under ``--distribute`` the model is restored or built and
    trained under the strategy; only the chief writes ``--out``. ``fit_options`` go to ``fit`` as they are."""
    from textmodels.training.distribution import select_distribution

    distribution = select_distribution(args.distribute)
    with distribution.scope():
        restored = run.restore(model_class.network_classes(), f"a {model_class.what}")
    if restored is not None:
        model = model_class.from_network(restored)
        model.batch_size = args.batch_size
        print(f"Resuming {run.directory} after epoch {run.initial_epoch}.", file=sys.stderr)
    else:
        model = build()
    if run.initial_epoch < args.epochs:
        validated = validation is not None and len(validation) > 0
        model.fit(
            train, validation=validation if validated else None, epochs=args.epochs, initial_epoch=run.initial_epoch,
            verbose=0 if args.quiet else 1, callbacks=run.callbacks(monitor="val_loss" if validated else "loss",
                                               patience=patience(args, validated)),
            distribution=distribution, **(fit_options or {}),
        )
        run.raise_if_diverged()
    return model, finish_run(run.directory, distribution.output_path(args.out), model_class.load)


def worker_is_chief(args) -> bool:
    """True on the worker that writes ``--out`` (every run without ``--distribute``); the others say so."""
    from textmodels.training.distribution import select_distribution

    distribution = select_distribution(args.distribute)
    if not distribution.is_chief:
        print(f"Worker {distribution.worker_index} of {distribution.num_workers} done; the chief writes {args.out}.")
    return distribution.is_chief


def finish_run(directory: str | Path, out: str | Path, load: Callable) -> Path:
    """Copies the best checkpoint of the run in ``directory`` (else its last) to ``out``, through ``load`` and
    the loaded model's ``save`` (so ``out`` holds exactly what ``load`` accepts); returns the checkpoint used.

    Example (after a training run)::

        finish_run("model.run", "model.keras", TextClassifier.load)
    """
    from textmodels.training import TrainingRun

    directory = Path(directory)
    source = directory / TrainingRun.BEST
    if not source.is_file():
        source = directory / TrainingRun.LAST
    if not source.is_file():
        raise FileNotFoundError(f"Training finished without a checkpoint in {directory}.")
    load(source).save(out)
    return source
