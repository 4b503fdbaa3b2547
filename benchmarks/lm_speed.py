"""Language-model speed: training tokens/s against a bare Keras LSTM, generation tokens/s against re-running
the model over the whole prefix for every new token.

Training: the textmodels `LanguageModel` (stateful, trained by `train_language_model`'s compile settings) and
a bare ``keras.Sequential`` (Embedding -> stateful LSTM x 2 -> Dense) of the same size, fitted on the same
PTB batches (20 x 20 tokens, vocabulary 10k, 2 x 200 LSTM: the Zaremba "small" shapes). Each model is timed
over whole epochs after a warm-up epoch (which absorbs graph tracing); the two are interleaved ``--repeats``
times and the fastest epoch of each is compared, because the CPU is shared with other jobs.

Generation: `TextGenerator` (one compiled step with the state carried) against a compiled loop that runs the
model over the whole prefix for every token; both time ``--tokens`` tokens after a warm-up, greedy.

Example:
    .venv/bin/python benchmarks/lm_speed.py --quick
    nice -n 10 .venv/bin/python benchmarks/lm_speed.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from lm_reporting import machine_description, write_report  # noqa: E402

from textmodels.data.lm_batches import stream_windows  # noqa: E402
from textmodels.data.paths import shared_data_dir  # noqa: E402
from textmodels.data.text_files import read_corpus_text  # noqa: E402
from textmodels.decoding import (
    compile_step,  # noqa: E402
    sample_next,  # noqa: E402
)
from textmodels.language_model.encoding import encode_stream, fit_lm_encoder  # noqa: E402
from textmodels.language_model.language_model import LanguageModel  # noqa: E402
from textmodels.language_model.text_generator import TextGenerator  # noqa: E402
from textmodels.language_model.training import compile_lm  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
BATCH, STEPS, UNITS, LAYERS = 20, 20, 200, 2


def _epoch_seconds(model, x, y) -> float:
    started = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    return time.perf_counter() - started


def bare_keras_model(vocabulary_size: int):
    """Embedding -> stateful LSTM x 2 -> Dense logits, compiled like the textmodels model."""
    model = keras.Sequential(
        [keras.Input(batch_shape=(BATCH, STEPS), dtype="int32"), keras.layers.Embedding(vocabulary_size, UNITS)]
        + [keras.layers.LSTM(UNITS, return_sequences=True, stateful=True) for _ in range(LAYERS)]
        + [keras.layers.Dense(vocabulary_size)]
    )
    model.compile(keras.optimizers.SGD(1.0, global_clipnorm=5.0),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def training_speed(text: str, batches: int, repeats: int) -> dict:
    encoder = fit_lm_encoder(text)
    x, y = stream_windows(encode_stream(text, encoder), BATCH, STEPS)
    x, y = x[: batches * BATCH], y[: batches * BATCH]
    ours = LanguageModel(encoder, UNITS, UNITS, cell="lstm", layers=LAYERS, stateful=True)
    ours.build((BATCH, None))
    compile_lm(ours, "sgd", 1.0, 5.0)
    bare = bare_keras_model(len(encoder.vocabulary))
    models = {"textmodels": ours, "bare_keras": bare}
    for model in models.values():  # warm-up: tracing and first-call allocations
        _epoch_seconds(model, x, y)
    times = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            times[name].append(_epoch_seconds(model, x, y))
    tokens = batches * BATCH * STEPS
    rates = {name: tokens / min(seconds) for name, seconds in times.items()}
    return {
        "tokens_per_epoch": tokens,
        "epoch_seconds": times,
        "tokens_per_second": rates,
        "ratio": rates["textmodels"] / rates["bare_keras"],
        "target": 0.9,
    }


def generation_speed(text: str, tokens: int) -> dict:
    encoder = fit_lm_encoder(text)
    model = LanguageModel(encoder, UNITS, UNITS, cell="lstm", layers=LAYERS)
    model.build((None, None))
    generator = TextGenerator(model)
    generator.generate(prime="the", max_tokens=5, temperature=0.0, stop_at_eos=False)  # warm-up
    started = time.perf_counter()
    stepped = generator.generate(prime="the", max_tokens=tokens, temperature=0.0, stop_at_eos=False)
    stepped_seconds = time.perf_counter() - started

    last_logits = compile_step(lambda ids: model(ids, training=False)[:, -1, :])
    banned = generator.banned_ids

    def rerun(count: int) -> list[int]:
        context = generator.start_ids("the")
        produced = []
        for _ in range(count):
            logits = keras.ops.convert_to_numpy(last_logits(np.asarray([context], "int32")))
            token = int(sample_next(logits, temperature=0.0, banned_ids=banned)[0])
            produced.append(token)
            context.append(token)
        return produced

    rerun(5)  # warm-up: the shape-generic trace
    started = time.perf_counter()
    rerun_tokens = rerun(tokens)
    rerun_seconds = time.perf_counter() - started
    return {
        "tokens": tokens,
        "stepwise_tokens_per_second": tokens / stepped_seconds,
        "rerun_prefix_tokens_per_second": tokens / rerun_seconds,
        "speedup": rerun_seconds / stepped_seconds,
        "same_tokens": stepped.token_ids == rerun_tokens,
        "target": 10.0,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None, help="folder with ptb.train.txt")
    parser.add_argument("--batches", type=int, default=150, help="training batches per timed epoch")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=400, help="tokens generated per timed run")
    parser.add_argument("--quick", action="store_true", help="30 batches, 1 repeat, 100 tokens")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.batches, args.repeats, args.tokens = 30, 1, 100
    data_dir = args.data_dir or (shared_data_dir() / "ptb" if shared_data_dir() else None)
    if data_dir is None or not (data_dir / "ptb.train.txt").is_file():
        print("error: PTB not found; pass --data-dir", file=sys.stderr)
        return 2
    text = read_corpus_text(data_dir / "ptb.train.txt")
    report = {
        "benchmark": "lm_speed",
        "command": "python benchmarks/lm_speed.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine_description(),
        "keras_backend": keras.backend.backend(),
        "training": training_speed(text, args.batches, args.repeats),
        "generation": generation_speed(text, args.tokens),
    }
    output = args.output or RESULTS / ("lm_speed_quick.json" if args.quick else "lm_speed.json")
    write_report(report, output)
    training, generation = report["training"], report["generation"]
    print(f"{'measure':<44} {'textmodels':>12} {'baseline':>12} {'ratio':>8} {'target':>8}")
    print(f"{'training tokens/s (vs bare Keras LSTM)':<44} {training['tokens_per_second']['textmodels']:>12.0f} "
          f"{training['tokens_per_second']['bare_keras']:>12.0f} {training['ratio']:>8.2f} {'>= 0.9':>8}")
    print(f"{'generation tokens/s (vs re-run prefix)':<44} {generation['stepwise_tokens_per_second']:>12.1f} "
          f"{generation['rerun_prefix_tokens_per_second']:>12.1f} {generation['speedup']:>8.1f} {'>= 10':>8}")
    print(f"identical greedy tokens: {generation['same_tokens']} -> {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
