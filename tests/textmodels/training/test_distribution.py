"""--distribute for real on one machine: two TensorFlow workers on 127.0.0.1 (TF_CONFIG), MirroredStrategy over
two logical CPU devices, JAX DataParallel over two host devices; each trains the tiny classifier and captioner of
`distributed_jobs` for two epochs, and the losses match a single process on the same global batches. A worker
killed mid-training stops the chief with the remedy, and a restart resumes. And the bad input: unsupported
strategies, faulty TF_CONFIG, the stream-regime language model.

Tolerances: the classifier (a TextCNN, no dropout, unmasked loss) matches to float rounding (1e-5). The
captioner's loss is a mean over real tokens computed per replica and then averaged over the replicas, so a
replica whose captions hold fewer tokens weighs more than on one device: its TensorFlow losses match to 1e-3
(JAX computes the loss over the whole global batch, so it matches to rounding).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import distributed_jobs
import keras
import numpy as np
import pytest

from textmodels.cli import main
from textmodels.errors import ConfigurationError
from textmodels.training.distribution import select_distribution
from textmodels.training.tf_config import read_tf_config

REPOSITORY = Path(__file__).resolve().parents[3]
JOB = REPOSITORY / "tests" / "distributed_jobs.py"
LIMIT = 400  # seconds; a test fails, not hangs, when a worker waits for a peer that never comes
TOLERANCE = {"classifier": 1e-5, "captioner": 1e-3}


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def start_process(arguments: list[str], log: Path, **environment) -> subprocess.Popen:
    """``python ARGUMENTS`` in the repository, its output in ``log`` (kept as ``job.log``)."""
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY), "TF_CPP_MIN_LOG_LEVEL": "3", **environment}
    with log.open("w") as output:
        job = subprocess.Popen([sys.executable, *arguments], env=env, stdout=output, stderr=subprocess.STDOUT,
                               cwd=REPOSITORY)
    job.log = log
    return job


def start_job(data: Path, out: Path, names: list[str], **environment) -> subprocess.Popen:
    log = out / f"{names[-1]}-{environment.get('TASK', 'job')}.log"
    return start_process([str(JOB), str(data), str(out), *names], log, **environment)


def finish(jobs: list[subprocess.Popen]) -> None:
    for job in jobs:
        try:
            job.wait(timeout=LIMIT)
        finally:
            job.kill()
    for job in jobs:
        assert job.returncode == 0, job.log.read_text()[-3000:]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Every distributed run, started at once (they overlap their start-up), and the single process here."""
    root = tmp_path_factory.mktemp("distribution")
    data = distributed_jobs.write_data(root / "data")
    out = root / "out"
    out.mkdir()
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    jobs = [
        start_job(data, out, ["multi-worker"], TASK=str(index),
                  TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        for index in range(2)
    ]
    jobs.append(start_job(data, out, ["mirrored"], LOGICAL_CPUS="2"))
    jobs.append(start_job(data, out, ["none", "data-parallel"], KERAS_BACKEND="jax",
                          XLA_FLAGS="--xla_force_host_platform_device_count=2"))
    try:
        from captioner.cli import main as captioner

        assert main(distributed_jobs.classifier_arguments(data, out / "single", "none")) == 0
        assert captioner(distributed_jobs.captioner_arguments(data, out / "single", "none")) == 0
        assert captioner(distributed_jobs.extraction_arguments(data, out / "single", "none")) == 0
    finally:
        finish(jobs)
    return out


def assert_same_losses(losses: dict, expected: dict, tolerances: dict) -> None:
    for name, values in expected.items():
        assert len(losses[name]) == distributed_jobs.EPOCHS
        np.testing.assert_allclose(losses[name], values, rtol=tolerances[name], err_msg=name)


@pytest.mark.slow
def test_two_workers_train_like_one_process_and_only_the_chief_writes(trained):
    folder = trained / "multi-worker"
    seen = [json.loads((folder / f"worker{index}.json").read_text()) for index in range(2)]
    assert seen == [{"replicas": 2, "workers": 2}] * 2
    assert_same_losses(distributed_jobs.trained_losses(folder), distributed_jobs.trained_losses(trained / "single"),
                       TOLERANCE)
    from captioner.api import Captioner
    from textmodels.classification import TextClassifier

    assert TextClassifier.load(folder / "classifier.keras").predict(["a great film"])[0].label in ("pos", "neg")
    assert Captioner.load(folder / "captioner.keras").model.feature_dim == 8
    # The second worker checkpointed in a private folder: the chief's run folder is the only one.
    assert sorted(path.name for path in folder.iterdir() if path.suffix == ".run") == ["captioner.run",
                                                                                       "classifier.run"]


@pytest.mark.slow
def test_two_workers_extract_their_shares_of_the_photos_into_one_cache(trained):
    def cache(folder):  # rows in the same (record) order in both caches
        return [np.load(folder / "cache" / name, allow_pickle=False) for name in ("features.npy", "done.npy")]

    (merged, done), (single, _) = cache(trained / "multi-worker"), cache(trained / "single")
    assert done.all() and merged.shape == (20, 8)
    np.testing.assert_allclose(merged, single, rtol=1e-5, atol=1e-6)
    assert not (trained / "multi-worker" / "cache" / "shards").exists()


@pytest.mark.slow
def test_mirrored_over_two_logical_cpus_trains_like_one_device(trained):
    seen = json.loads((trained / "mirrored" / "worker0.json").read_text())
    assert seen == {"replicas": 2, "workers": 1}
    assert_same_losses(distributed_jobs.trained_losses(trained / "mirrored"),
                       distributed_jobs.trained_losses(trained / "single"), TOLERANCE)


@pytest.mark.slow
def test_jax_data_parallel_over_two_host_devices_trains_like_one_device(trained):
    seen = json.loads((trained / "data-parallel" / "worker0.json").read_text())
    assert seen == {"replicas": 2, "workers": 1}
    exact = {"classifier": 1e-5, "captioner": 1e-5}
    assert_same_losses(distributed_jobs.trained_losses(trained / "data-parallel"),
                       distributed_jobs.trained_losses(trained / "none"), exact)
    assert keras.saving.load_model(trained / "data-parallel" / "classifier.keras", safe_mode=True).built


@pytest.mark.slow
def test_a_worker_that_dies_stops_the_chief_with_the_remedy_and_a_restart_resumes_exactly(trained, tmp_path):
    """Worker 1 is killed (SIGKILL, `textmodels.fault_points`) once it has checkpointed epoch 1: the chief stops
    with one line naming the lost task and the remedy instead of waiting forever; every worker restarted with
    ``--resume`` then trains epoch 2 only, and the losses are those of one uninterrupted process."""
    from textmodels.fault_points import KILL_VARIABLE

    data = trained.parent / "data"
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    arguments = distributed_jobs.classifier_arguments(data, tmp_path, "multi-worker")

    def start(index: int, *extra: str, **environment) -> subprocess.Popen:
        return start_process(["-m", "textmodels.cli", *arguments, *extra],
                             tmp_path / f"worker{index}{'-resumed' if extra else ''}.log", **environment,
                             TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))

    # Epoch 1's checkpoint is save points 1-15 (last.keras, best.keras, state.json): killed after the last.
    chief, doomed = start(0), start(1, **{KILL_VARIABLE: "15"})
    for job in (chief, doomed):
        try:
            job.wait(timeout=LIMIT)
        finally:
            job.kill()
    output = chief.log.read_text()
    assert doomed.returncode == -9, doomed.log.read_text()[-3000:]
    assert chief.returncode == 2 and "Traceback" not in output, output[-3000:]
    [error] = [line for line in output.splitlines() if line.startswith("error:")]
    assert error.startswith("error: Training stopped: another worker stopped answering"), error
    assert "task:1" in error and error.endswith("Restart every worker with --resume to continue from the chief's "
                                                "last checkpoint.")
    assert not (tmp_path / "classifier.keras").exists()

    restarted = [start(index, "--resume") for index in range(2)]
    finish(restarted)
    run, single_run = tmp_path / "classifier.run", trained / "single" / "classifier.run"
    losses = [json.loads((folder / "state.json").read_text())["history"]["loss"] for folder in (run, single_run)]
    np.testing.assert_allclose(*losses, rtol=TOLERANCE["classifier"])
    resumed = keras.saving.load_model(run / "last.keras", safe_mode=True)
    single = keras.saving.load_model(single_run / "last.keras", safe_mode=True)
    assert int(resumed.optimizer.iterations) == int(single.optimizer.iterations)  # no epoch trained twice
    assert (tmp_path / "classifier.keras").is_file()


@pytest.mark.parametrize("name, backend, supported", [
    ("data-parallel", "tensorflow", "none, mirrored, multi-worker"),
    ("mirrored", "jax", "none, data-parallel"),
    ("multi-worker", "torch", "none"),
])
def test_a_strategy_the_backend_lacks_is_refused_naming_the_supported_ones(name, backend, supported):
    with pytest.raises(ConfigurationError, match=f"not supported on the {backend} backend; supported there: "
                       f"{supported}"):
        select_distribution(name, backend=backend)


def test_the_command_reports_an_unsupported_strategy_in_one_line(tmp_path, capsys):
    data = tmp_path / "train.tsv"
    data.write_text("text\tlabel\ngood film\tpos\nbad film\tneg\n")
    code = main(["train-classifier", str(data), "--out", str(tmp_path / "m.keras"), "--distribute", "data-parallel"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "error: --distribute data-parallel is not supported on the tensorflow backend" in err


@pytest.mark.parametrize("text, message", [
    (None, "--distribute multi-worker needs TF_CONFIG"),
    ('{"cluster": {"worker": ["h:1"]', "TF_CONFIG is not valid JSON"),
    ('["h:1"]', 'JSON object with "cluster" and "task"'),
    ('{"cluster": {"worker": ["h:1", "h:2", "h:1"]}, "task": {"type": "worker", "index": 0}}',
     "TF_CONFIG names h:1 twice \\(worker 0 and worker 2\\)"),
    ('{"cluster": {"chief": ["h:1"], "worker": ["h:1"]}, "task": {"type": "worker", "index": 0}}',
     "TF_CONFIG names h:1 twice \\(chief 0 and worker 0\\)"),
    ('{"cluster": {"worker": ["h:1", "h:2"]}, "task": {"type": "worker", "index": 2}}',
     "task index 2 is not one of the 2 worker tasks"),
    ('{"cluster": {"worker": ["h:1"]}, "task": {"type": "chief", "index": 0}}', "task type 'chief' is not a job"),
    ('{"cluster": {"worker": ["h:1"], "ps": ["h:2"]}, "task": {"type": "worker", "index": 0}}',
     "job 'ps' is not supported"),
    ('{"cluster": {"worker": ["no-port"]}, "task": {"type": "worker", "index": 0}}', '"host:port" strings'),
])
def test_a_faulty_tf_config_is_refused_naming_the_fault(text, message):
    with pytest.raises(ConfigurationError, match=message):
        read_tf_config(text)


def test_the_chief_task_comes_first_and_workers_follow():
    config = read_tf_config('{"cluster": {"chief": ["c:1"], "worker": ["w:1", "w:2"]}, '
                            '"task": {"type": "worker", "index": 1}}')
    assert (config.addresses, config.worker_index, config.is_chief) == (["c:1", "w:1", "w:2"], 2, False)


def test_the_command_reports_a_faulty_tf_config_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:1"]}, '
                       '"task": {"type": "worker", "index": 0}}')
    data = tmp_path / "train.tsv"
    data.write_text("text\tlabel\ngood film\tpos\nbad film\tneg\n")
    code = main(["train-classifier", str(data), "--out", str(tmp_path / "m.keras"), "--distribute", "multi-worker"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: TF_CONFIG names 127.0.0.1:1 twice") and err.count("\n") == 1


def test_the_stream_regime_refuses_distribution_with_the_reason(tmp_path):
    from textmodels.language_model.training import train_language_model

    with pytest.raises(ConfigurationError, match="cannot train the stream regime: the state each stream carries"):
        train_language_model("a b c\n" * 20, tmp_path / "run", regime="stream", distribution="mirrored")


def test_non_chief_workers_keep_their_run_folder_and_output_to_themselves(tmp_path):
    from textmodels.training.distribution import Distribution

    shared = tmp_path / "model.run"
    shared.mkdir()
    (shared / "state.json").write_text("{}")
    (shared / "last.keras").write_text("checkpoint")
    chief = Distribution("multi-worker", num_workers=2)
    other = Distribution("multi-worker", worker_index=1, num_workers=2)
    assert chief.run_directory(shared) == shared
    private = other.run_directory(shared, resume=True)
    assert private != shared and (private / "last.keras").read_text() == "checkpoint"
    assert private.parent == other.private_directory() != tmp_path
    assert other.shard(list("abcde")) == ["b", "d"]


@pytest.mark.slow
def test_the_tagger_and_the_sentences_regime_train_under_a_strategy(tmp_path):
    """Built, trained, validated and saved under MirroredStrategy (one device here: the code path, not speed)."""
    from textmodels.language_model.training import train_language_model
    from textmodels.tagging.sequence_tagger import SequenceTagger

    sentences = [[("the", "DT"), ("dog", "NN"), ("barks", "VBZ")], [("a", "DT"), ("cat", "NN")]] * 4
    tagger = SequenceTagger(embedding_dim=4, units=4, min_count=1, batch_size=4)
    history = tagger.fit(sentences, validation=sentences[:2], epochs=1, verbose=0, distribution="mirrored")
    assert np.isfinite(history.history["val_loss"][0])
    tagger.save(tmp_path / "tagger.keras")
    assert {tag for _, tag in SequenceTagger.load(tmp_path / "tagger.keras").tag(["the dog"])[0]} <= {"DT", "NN", "VBZ"}
    result = train_language_model("a b c\nb c a\n" * 8, tmp_path / "lm.run", valid_text="a b c\n", regime="sentences",
                                  layers=1, units=4, epochs=1, batch_size=4, verbose=0, distribution="mirrored")
    assert np.isfinite(result.history["val_perplexity"][0])
