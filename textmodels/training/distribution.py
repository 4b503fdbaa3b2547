"""Distribution strategy selection: ``--distribute none | mirrored | multi-worker | data-parallel``.

One `Distribution` object says how a training run is spread over devices and machines, and everything that
differs between a single process and a cluster goes through it:

- ``mirrored`` (TensorFlow): `tf.distribute.MirroredStrategy` over this machine's GPUs (or its logical CPU
  devices when it has no GPU);
- ``multi-worker`` (TensorFlow): `tf.distribute.MultiWorkerMirroredStrategy`, one process per machine, the
  cluster and this worker's place in it read from ``TF_CONFIG`` (checked first: `read_tf_config`);
- ``data-parallel`` (JAX): `keras.distribution.DataParallel` over the devices of a ``DeviceMesh``, after
  `keras.distribution.initialize` when ``KERAS_DISTRIBUTION_NUM_PROCESSES`` names several hosts.

Models, optimizers and metrics are built under `Distribution.scope`; `Distribution.fit` trains under it. Input
is fed at the global batch size and split by the engine (each worker takes its part of every global batch), so a
run on N replicas follows the same batches as one process with the same ``--batch-size``. Only the chief writes
checkpoints and the model: the other workers get a private temporary run folder (`Distribution.run_directory`)
and write no model file. A worker that stops answering makes the others stop within ``timeout`` seconds with
`WorkerLost` (restart every worker with ``--resume``) instead of waiting forever.

Example:
    >>> none = select_distribution("none")
    >>> none.is_chief, none.num_workers, none.shard(["a", "b", "c"])
    (True, 1, ['a', 'b', 'c'])
    >>> try:
    ...     select_distribution("data-parallel", backend="torch")
    ... except ConfigurationError as error:
    ...     print(error)
    --distribute data-parallel is not supported on the torch backend; supported there: none.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import keras

from textmodels.errors import ConfigurationError, TextmodelsError
from textmodels.training.tf_config import TFConfig, read_tf_config

DISTRIBUTIONS = ("none", "mirrored", "multi-worker", "data-parallel")
SUPPORTED = {
    "tensorflow": ("none", "mirrored", "multi-worker"),
    "jax": ("none", "data-parallel"),
    "torch": ("none",),
    "numpy": ("none",),
}
# Seconds without any progress (a batch, an epoch, a validation pass) before the other workers are taken for
# lost. Generous: it also covers the chief writing a large checkpoint while the others wait at the next step.
DEFAULT_TIMEOUT = 300.0


class WorkerLost(TextmodelsError, RuntimeError):
    """Another worker of the cluster stopped answering; training stopped instead of waiting for it."""


class Distribution:
    """How training is spread: the engine's strategy (or None), and this process' place among the workers.

    Build with `select_distribution`; the attributes are ``name``, ``strategy`` (a `tf.distribute.Strategy`, a
    `keras.distribution.Distribution` or None), ``worker_index``, ``num_workers`` and ``num_replicas``.
    """

    def __init__(self, name: str, strategy=None, worker_index: int = 0, num_workers: int = 1, num_replicas: int = 1,
                 timeout: float = DEFAULT_TIMEOUT):
        self.name = name
        self.strategy = strategy
        self.worker_index = worker_index
        self.num_workers = num_workers
        self.num_replicas = num_replicas
        self.timeout = timeout
        self._private = None

    def __repr__(self) -> str:
        return (f"Distribution({self.name!r}, worker {self.worker_index} of {self.num_workers}, "
                f"{self.num_replicas} replica(s))")

    @property
    def is_chief(self) -> bool:
        """The one worker that writes checkpoints, models and caches."""
        return self.worker_index == 0

    def scope(self):
        """The context in which models, optimizers and metrics must be created (and trained)."""
        if self.strategy is None:
            return contextlib.nullcontext()
        return self.strategy.scope()

    def fit(self, model, *args, callbacks=(), **kwargs):
        """``model.fit(*args, **kwargs)`` under the strategy; on several workers, a lost worker raises
        `WorkerLost` (after at most ``timeout`` seconds without progress) instead of hanging.

        On TensorFlow, training data that knows its batches by epoch (`textmodels.data.BucketedBatches`) is fed
        as one tf.data stream of every epoch's batches, epoch by epoch: fed as a `keras.utils.PyDataset`, the
        next epoch's input is prefetched while the last one ends and races its ``on_epoch_end`` reshuffle,
        so that replicas, workers and a single process could see different batches."""
        args, kwargs = _by_epoch(args, kwargs)
        if self.num_workers == 1:
            with self.scope():
                return model.fit(*args, callbacks=list(callbacks), **kwargs)
        watchdog = _Watchdog(self.timeout)
        try:
            with self.scope():
                return model.fit(*args, callbacks=[watchdog, *callbacks], **kwargs)
        except Exception as error:
            if watchdog.fired or type(error).__name__ in _COLLECTIVE_FAILURES:
                raise WorkerLost(_lost_message(self.timeout, error, watchdog.fired)) from None
            raise
        finally:
            watchdog.stop()

    def shard(self, items: Sequence) -> list:
        """This worker's share of ``items``: every ``num_workers``-th item, from ``worker_index``."""
        return list(items)[self.worker_index :: self.num_workers]

    def barrier(self) -> None:
        """Returns once every worker has called it (immediately on one worker)."""
        if self.num_workers == 1:
            return
        if self.name == "multi-worker":
            import tensorflow as tf

            # A one-number all-reduce: the collective cannot finish before every worker joins it.
            replicas = self.strategy.run(lambda: tf.ones(()))
            self.strategy.reduce(tf.distribute.ReduceOp.SUM, replicas, axis=None)
        else:
            from jax.experimental import multihost_utils

            multihost_utils.sync_global_devices("textmodels barrier")

    def private_directory(self) -> Path:
        """A temporary folder of this worker's own (removed at exit): where a non-chief worker writes."""
        if self._private is None:
            self._private = tempfile.TemporaryDirectory(prefix=f"worker{self.worker_index}-")
        return Path(self._private.name)

    def run_directory(self, directory: str | Path, resume: bool = False) -> Path:
        """Where this worker keeps its run folder: ``directory`` on the chief; elsewhere a private copy (of the
        state to resume from, with ``resume``), so that only the chief's checkpoints are ever written there.

        Every worker resumes from the same checkpoint, so ``directory`` must be readable by all of them (a
        shared file system, or a copy of the chief's run folder on each machine).
        """
        directory = Path(directory)
        if self.is_chief:
            return directory
        private = self.private_directory() / "run"
        private.mkdir(exist_ok=True)
        if resume:
            for name in ("last.keras", "best.keras", "state.json"):
                if (directory / name).is_file():
                    shutil.copy2(directory / name, private / name)
        return private


def select_distribution(name: str = "none", *, backend: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                        environ=None) -> Distribution:
    """The `Distribution` named ``name`` (one of `DISTRIBUTIONS`) on ``backend`` (default: Keras' own).

    `ConfigurationError` names the strategies the backend supports when ``name`` is not one of them, and
    ``TF_CONFIG`` faults for ``multi-worker``. A process has one cluster: asking twice for a strategy returns
    the same object (a model built under it is trained under it). ``timeout``: seconds without progress before
    `WorkerLost`.

    Example:
        >>> select_distribution("mirrored").num_replicas >= 1
        True
    """
    backend = backend or keras.backend.backend()
    if name not in DISTRIBUTIONS:
        raise ConfigurationError(f"Unknown --distribute {name!r}; valid: {', '.join(DISTRIBUTIONS)}.")
    supported = SUPPORTED.get(backend, ("none",))
    if name not in supported:
        raise ConfigurationError(
            f"--distribute {name} is not supported on the {backend} backend; supported there: {', '.join(supported)}."
        )
    if name == "none":
        return Distribution("none", timeout=timeout)
    environ = os.environ if environ is None else environ
    if name in _PROCESS_WIDE:
        return _PROCESS_WIDE[name]
    if name == "mirrored":
        _fix_keras_distributed_fit()
        strategy = _mirrored_strategy()
        distribution = Distribution("mirrored", strategy, num_replicas=_replicas(strategy), timeout=timeout)
    elif name == "multi-worker":
        distribution = _multi_worker(read_tf_config(environ.get("TF_CONFIG")), timeout)
    else:
        distribution = _data_parallel(environ, timeout)
    _PROCESS_WIDE[name] = distribution
    return distribution


def as_distribution(value) -> Distribution:
    """A `Distribution` from a name, a `Distribution` or None (``"none"``): what every ``distribution=``
    argument of the project accepts.

    Example:
        >>> as_distribution(None).name
        'none'
    """
    if isinstance(value, Distribution):
        return value
    return select_distribution("none" if value is None else value)


_PROCESS_WIDE: dict[str, Distribution] = {}


def _replicas(strategy) -> int:
    return int(strategy.num_replicas_in_sync)


def _mirrored_strategy():
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    # Without GPUs, the logical CPU devices (tf.config.set_logical_device_configuration) are the replicas.
    devices = [device.name for device in gpus or tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices)


def _multi_worker(config: TFConfig, timeout: float) -> Distribution:
    import tensorflow as tf

    _fix_keras_distributed_fit()
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout)
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    return Distribution("multi-worker", strategy, config.worker_index, len(config.addresses), _replicas(strategy),
                        timeout)


def _data_parallel(environ, timeout: float) -> Distribution:
    import jax

    if int(environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES", "1")) > 1:
        # Several hosts: KERAS_DISTRIBUTION_JOB_ADDRESSES, _NUM_PROCESSES and _PROCESS_ID describe the cluster.
        keras.distribution.initialize()
    devices = keras.distribution.list_devices()
    mesh = keras.distribution.DeviceMesh((len(devices),), ["batch"], devices)
    strategy = keras.distribution.DataParallel(device_mesh=mesh)
    return Distribution("data-parallel", strategy, jax.process_index(), jax.process_count(), len(devices), timeout)


def _fix_keras_distributed_fit() -> None:
    """Two repairs to Keras 3.15's TensorFlow trainer under a strategy. Its symbolic build draws a batch from the
    epoch's distributed iterator: for a `keras.utils.PyDataset` that starts the generator thread, which then races
    the reset that follows (``on_epoch_end``), so the first epochs see other batches than on one device; and on
    several workers it averages that batch over the workers, which fails. It only needs shapes: the dataset's
    first batch (or this worker's part of one) serves. And on several workers the logs' scalar metrics are
    averaged with ``axis=0``, which a scalar lacks."""
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer
    from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

    if getattr(trainer, "_textmodels_fixed", False):
        return
    reduce_per_replica = trainer.reduce_per_replica
    symbolic_build = trainer.TensorFlowTrainer._maybe_symbolic_build

    def multi_worker(strategy) -> bool:
        return strategy is not None and trainer._collective_all_reduce_multi_worker(strategy)

    def reduce_logs(values, strategy, reduction):
        if reduction in ("auto", "mean") and multi_worker(strategy):
            return tree.map_structure(lambda value: strategy.reduce("MEAN", value, axis=None), values)
        return reduce_per_replica(values, strategy, reduction)

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = self._distribute_strategy
        if iterator is not None and strategy is not None:
            if isinstance(iterator.data_adapter, PyDatasetAdapter):
                data_batch = tuple(iterator.data_adapter.py_dataset[0])
                iterator = None
            elif multi_worker(strategy):
                local = strategy.experimental_local_results
                for _, _, batches in iterator:
                    data_batch = tree.map_structure(lambda value: local(value)[0], next(batches))
                    break
                iterator = None
        return symbolic_build(self, iterator=iterator, data_batch=data_batch)

    trainer.reduce_per_replica = reduce_logs
    trainer.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build
    trainer._textmodels_fixed = True


def _by_epoch(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """``fit``'s arguments with epoch-aware training data (``epoch_batches(epoch)``) as one tf.data stream of
    the epochs ``initial_epoch`` .. ``epochs - 1`` and ``steps_per_epoch``; anything else as it was."""
    data = args[0] if args else None
    if keras.backend.backend() != "tensorflow" or not hasattr(data, "epoch_batches"):
        return args, kwargs
    import tensorflow as tf

    first_epoch, epochs = kwargs.get("initial_epoch", 0), kwargs.get("epochs", 1)
    first = next(data.epoch_batches(first_epoch))
    signature = tuple(tf.TensorSpec((None,) * array.ndim, tf.as_dtype(array.dtype)) for array in first)

    def every_epoch():
        for epoch in range(first_epoch, epochs):
            yield from data.epoch_batches(epoch)

    stream = tf.data.Dataset.from_generator(every_epoch, output_signature=signature).prefetch(tf.data.AUTOTUNE)
    return (stream, *args[1:]), {**kwargs, "steps_per_epoch": len(data)}


_COLLECTIVE_FAILURES = {"UnavailableError", "DeadlineExceededError", "CancelledError", "AbortedError"}


def _lost_message(timeout: float, error: Exception, watchdog_fired: bool) -> str:
    """One line: why training stopped (the watchdog's timeout, or TensorFlow's own report, which names the lost
    task) and the remedy.

    Example:
        >>> error = RuntimeError("{{function_node __wrapped__CollectiveReduceV2}} Collective ops is aborted by: "
        ...                      "The following tasks are unhealthy (stopped sending heartbeats):\\n"
        ...                      "/job:worker/task:1\\nThe tasks have crashed.")
        >>> print(_lost_message(300, error, watchdog_fired=False))  # doctest: +NORMALIZE_WHITESPACE
        Training stopped: another worker stopped answering (Collective ops is aborted by: The following tasks are
        unhealthy (stopped sending heartbeats): /job:worker/task:1). Restart every worker with --resume to continue
        from the chief's last checkpoint.
    """
    if watchdog_fired:
        reason = f"no batch finished for {timeout:.0f} s"
    else:
        # TensorFlow's report: a "{{function_node ...}}" prefix, then the cause; when the cause ends with a
        # colon, its next line is what it announces (the unhealthy task).
        report = re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", str(error).strip())
        lines = report.splitlines() or [type(error).__name__]
        reason = lines[0].strip()
        if reason.endswith(":") and len(lines) > 1:
            reason = f"{reason} {lines[1].strip()}"
    return (f"Training stopped: another worker stopped answering ({reason}). "
            "Restart every worker with --resume to continue from the chief's last checkpoint.")


class _Watchdog(keras.callbacks.Callback):
    """Aborts the cluster's collectives when no batch, epoch or validation pass ends for ``timeout`` seconds:
    TensorFlow itself waits for a dead peer forever."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout
        self.fired = False
        self._beat = time.monotonic()
        self._stopped = threading.Event()
        self._thread = None

    def on_train_begin(self, logs=None):
        self._beat = time.monotonic()
        self._thread = threading.Thread(target=self._watch, name="distribution-watchdog", daemon=True)
        self._thread.start()

    def _progress(self, *args, **kwargs):
        self._beat = time.monotonic()

    on_train_batch_end = on_test_batch_end = on_epoch_begin = on_epoch_end = _progress

    def stop(self) -> None:
        self._stopped.set()

    def _watch(self) -> None:
        while not self._stopped.wait(min(1.0, self.timeout / 4)):
            if time.monotonic() - self._beat > self.timeout:
                from tensorflow.python.eager import context
                from tensorflow.python.framework import errors

                self.fired = True
                context.context().abort_collective_ops(
                    errors.UNAVAILABLE, f"no progress from the cluster for {self.timeout:.0f} s"
                )
                return
