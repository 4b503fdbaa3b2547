"""``TF_CONFIG``, checked before TensorFlow reads it: the cluster of ``--distribute multi-worker`` (every worker's
``host:port``, chief first) and this worker's place in it. TensorFlow would misread some faults or wait on them
forever (an address listed twice, an index out of range); `read_tf_config` refuses each, naming it.

Example:
    >>> read_tf_config('{"cluster": {"worker": ["h1:2222", "h2:2222"]}, "task": {"type": "worker", "index": 0}}'
    ...                ).is_chief
    True
"""

from __future__ import annotations

import json

from textmodels.errors import ConfigurationError


class TFConfig:
    """A checked ``TF_CONFIG``: the cluster's addresses, in worker order (chief first), and this task's place.

    Example:
        >>> config = read_tf_config('{"cluster": {"worker": ["h1:2222", "h2:2222"]}, '
        ...                         '"task": {"type": "worker", "index": 1}}')
        >>> config.addresses, config.worker_index, config.is_chief
        (['h1:2222', 'h2:2222'], 1, False)
    """

    def __init__(self, addresses: list[str], worker_index: int):
        self.addresses = addresses
        self.worker_index = worker_index

    @property
    def is_chief(self) -> bool:
        return self.worker_index == 0


def read_tf_config(text: str | None) -> TFConfig:
    """Checks ``TF_CONFIG`` (a JSON string) and returns it as a `TFConfig`; `ConfigurationError` naming the fault
    for anything TensorFlow would misread or wait on forever (an address listed twice, an index out of range).

    Example:
        >>> try:
        ...     read_tf_config('{"cluster": {"worker": ["h:1", "h:1"]}, "task": {"type": "worker", "index": 0}}')
        ... except ConfigurationError as error:
        ...     print(error)
        TF_CONFIG names h:1 twice (worker 0 and worker 1): every worker needs its own host:port.
    """
    if not text:
        raise ConfigurationError(
            "--distribute multi-worker needs TF_CONFIG: set it on every worker to "
            '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": I}}.'
        )
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"TF_CONFIG is not valid JSON: {error}.") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise ConfigurationError('TF_CONFIG must be a JSON object with "cluster" and "task" objects.')
    unknown = sorted(set(cluster) - {"chief", "worker"})
    if unknown:
        raise ConfigurationError(
            f"TF_CONFIG: job {unknown[0]!r} is not supported (MultiWorkerMirroredStrategy runs 'chief' and "
            "'worker' tasks only)."
        )
    jobs = [(job, cluster.get(job, [])) for job in ("chief", "worker")]
    addresses, names = [], []
    for job, hosts in jobs:
        if not isinstance(hosts, list) or not all(isinstance(host, str) and host.count(":") >= 1 for host in hosts):
            raise ConfigurationError(f'TF_CONFIG: cluster "{job}" must be a list of "host:port" strings.')
        names += [f"{job} {index}" for index in range(len(hosts))]
        addresses += hosts
    if len(cluster.get("chief", [])) > 1:
        raise ConfigurationError("TF_CONFIG: a cluster has at most one chief.")
    for position, address in enumerate(addresses):
        first = addresses.index(address)
        if first != position:
            raise ConfigurationError(
                f"TF_CONFIG names {address} twice ({names[first]} and {names[position]}): every worker needs its "
                "own host:port."
            )
    kind, index = task.get("type"), task.get("index", 0)
    hosts = dict(jobs).get(kind) if isinstance(kind, str) else None
    if not hosts:
        raise ConfigurationError(f"TF_CONFIG: task type {kind!r} is not a job of the cluster ({', '.join(cluster)}).")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(hosts):
        raise ConfigurationError(f"TF_CONFIG: task index {index!r} is not one of the {len(hosts)} {kind} tasks.")
    return TFConfig(addresses, index + (len(cluster.get("chief", [])) if kind == "worker" else 0))
