"""The same models on every Keras backend: training steps/s against a bare Keras model of the same size on that
backend, generation tokens/s and caption decoding images/s against the fastest backend.

Keras fixes its backend at import, so each backend runs in a subprocess of its own (``--worker``); the parent
prints one table and writes ``benchmarks/results/backends.json``. Every worker builds the same data from the
same NumPy seeds, so all backends train and decode on the same batches:

- language model: `LanguageModel`, stream regime (stateful), word level, 2 x 128 LSTM, vocabulary 2,000,
  20 x 20 windows; bare: Embedding -> 2 stateful LSTM -> Dense. Generation: `TextGenerator`, sampling.
- classifier: `TextRNN` (bidirectional LSTM 64, masked max pooling, dropout) on padded batches of 32 x 40
  ids; bare: Embedding(mask_zero) -> Bidirectional LSTM -> GlobalMaxPooling1D -> Dense.
- captioner decoder: `CaptionModel` on cached features (512-d, first-step injection, LSTM 256, embedding 128,
  vocabulary 2,000), batches of 32 x 16 tokens; bare: Embedding -> LSTM with its initial state from the
  features -> Dense. Decoding: `CaptionModel.generate`, beam 3, on 16 images.

Training is timed over whole epochs after a warm-up epoch (tracing, compilation); ours and bare are interleaved
``--repeats`` times and the fastest epoch of each is kept, because the CPU is shared with other jobs. Targets
(issue 14): training >= 0.9x the bare model on the same backend; generation and decoding within 2x of the
fastest backend.

Example:
    nice -n 5 .venv/bin/python benchmarks/backends.py --quick
    .venv/bin/python benchmarks/backends.py --backends jax,torch
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402  (the parent's backend is irrelevant: each worker is started with its own)
import numpy as np  # noqa: E402
from lm_reporting import machine_description, write_report  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
BACKENDS = ("tensorflow", "jax", "torch")
VOCABULARY, SEED = 2000, 0
LM = dict(batch=20, steps=20, units=128, layers=2)
CLASSIFIER = dict(batch=32, length=40, embedding_dim=64, units=64)
CAPTIONER = dict(batch=32, length=16, feature_dim=512, embedding_dim=128, units=256, images=16, beam=3)


def _words(count: int, rng) -> list[str]:
    """``count`` words drawn Zipf-like from a vocabulary of `VOCABULARY` (w0 the most frequent)."""
    ranks = np.arange(1, VOCABULARY + 1)
    return [f"w{index}" for index in rng.choice(VOCABULARY, size=count, p=(1 / ranks) / (1 / ranks).sum())]


def _epoch_seconds(model, x, y, batch: int) -> float:
    started = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
    return time.perf_counter() - started


def _training(models: dict, x, y, batch: int, repeats: int) -> dict:
    """Steps/s of each model (fastest of ``repeats`` interleaved epochs after a warm-up) and ours / bare."""
    for model in models.values():
        _epoch_seconds(model, x, y, batch)
    times = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            times[name].append(_epoch_seconds(model, x, y, batch))
    steps = len(next(iter(x.values())) if isinstance(x, dict) else x) // batch
    rates = {name: steps / min(seconds) for name, seconds in times.items()}
    return {"steps_per_epoch": steps, "epoch_seconds": times, "steps_per_second": rates,
            "ratio": rates["textmodels"] / rates["bare_keras"]}


def _no_cudnn() -> dict:
    # Keras' torch backend cannot train a stateful LSTM through its fast path (see RecurrentBlock); the bare
    # model needs the same option to train at all.
    return {"use_cudnn": False} if keras.backend.backend() == "torch" else {}


def language_model(batches: int, repeats: int, tokens: int) -> dict:
    from textmodels.data.lm_batches import stream_windows
    from textmodels.language_model.encoding import encode_stream, fit_lm_encoder
    from textmodels.language_model.language_model import LanguageModel
    from textmodels.language_model.text_generator import TextGenerator
    from textmodels.language_model.training import compile_lm

    batch, steps, units, layers = LM["batch"], LM["steps"], LM["units"], LM["layers"]
    rng = np.random.default_rng(SEED)
    text = " ".join(_words(batch * steps * batches + batch + 1, rng))
    encoder = fit_lm_encoder(text)
    x, y = stream_windows(encode_stream(text, encoder), batch, steps)
    x, y = x[: batches * batch], y[: batches * batch]
    keras.utils.set_random_seed(SEED)
    ours = LanguageModel(encoder, units, units, cell="lstm", layers=layers, stateful=True)
    ours.build((batch, None))
    compile_lm(ours, "sgd", 1.0, 5.0)
    bare = keras.Sequential(
        [keras.Input(batch_shape=(batch, steps), dtype="int32"), keras.layers.Embedding(len(encoder.vocabulary), units)]
        + [keras.layers.LSTM(units, return_sequences=True, stateful=True, **_no_cudnn()) for _ in range(layers)]
        + [keras.layers.Dense(len(encoder.vocabulary))]
    )
    bare.compile(keras.optimizers.SGD(1.0, global_clipnorm=5.0),
                 keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    result = {"training": _training({"textmodels": ours, "bare_keras": bare}, x, y, batch, repeats)}

    generator = TextGenerator(ours)
    generator.generate(max_tokens=5, seed=0, stop_at_eos=False)  # warm-up: the compiled step
    started = time.perf_counter()
    generator.generate(max_tokens=tokens, seed=0, stop_at_eos=False)
    result["generation_tokens_per_second"] = tokens / (time.perf_counter() - started)
    return result


def classifier(batches: int, repeats: int) -> dict:
    from textmodels.classification.text_rnn import TextRNN
    from textmodels.training import make_optimizer

    batch, length = CLASSIFIER["batch"], CLASSIFIER["length"]
    embedding_dim, units = CLASSIFIER["embedding_dim"], CLASSIFIER["units"]
    rng = np.random.default_rng(SEED + 1)
    count = batch * batches
    lengths = rng.integers(5, length + 1, size=count)
    x = rng.integers(4, VOCABULARY, size=(count, length)).astype("int32")
    x[np.arange(length)[None, :] >= lengths[:, None]] = 0  # post-padding
    y = rng.integers(0, 2, size=count).astype("int32")
    keras.utils.set_random_seed(SEED)
    ours = TextRNN(VOCABULARY, 2, embedding_dim=embedding_dim, units=units, pooling="max")
    ours.build((None, length))
    ours.compile(optimizer=make_optimizer("adam", 1e-3), loss="sparse_categorical_crossentropy")
    inputs = keras.Input((length,), dtype="int32")
    hidden = keras.layers.Embedding(VOCABULARY, embedding_dim, mask_zero=True)(inputs)
    hidden = keras.layers.Dropout(0.2)(hidden)
    hidden = keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True))(hidden)
    pooled = keras.layers.Dropout(0.5)(keras.layers.GlobalMaxPooling1D()(hidden))
    bare = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(pooled))
    bare.compile(optimizer=make_optimizer("adam", 1e-3), loss="sparse_categorical_crossentropy")
    return {"training": _training({"textmodels": ours, "bare_keras": bare}, x, y, batch, repeats)}


def captioner(batches: int, repeats: int) -> dict:
    from captioner.model import CaptionModel, fit_caption_vocabulary
    from textmodels.text import Vocabulary, pack_ids
    from textmodels.training import make_optimizer

    batch, length, feature_dim = CAPTIONER["batch"], CAPTIONER["length"], CAPTIONER["feature_dim"]
    embedding_dim, units = CAPTIONER["embedding_dim"], CAPTIONER["units"]
    rng = np.random.default_rng(SEED + 2)
    count = batch * batches
    captions = [" ".join(_words(int(n), rng)) for n in rng.integers(5, length - 1, size=count)]
    text_encoder = fit_caption_vocabulary(captions, min_count=1, max_length=length - 2)
    ids = pack_ids([text_encoder.vocabulary.encode(caption.split()) for caption in captions],
                   bos_id=Vocabulary.bos_id, eos_id=Vocabulary.eos_id)
    features = rng.normal(size=(count, feature_dim)).astype("float32")
    x, y = {"features": features, "tokens": ids[:, :-1]}, ids[:, 1:]
    keras.utils.set_random_seed(SEED)
    ours = CaptionModel.create(text_encoder, {"kind": "small", "image_size": 16, "conv_filters": [4],
                                              "feature_dim": feature_dim},
                               embedding_dim=embedding_dim, units=units, cell="lstm", train_encoder=False)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    ours.compile(optimizer=make_optimizer("adam", 1e-3), loss=loss)
    vocabulary = len(text_encoder.vocabulary)
    feature_in, tokens_in = keras.Input((feature_dim,), name="features"), keras.Input((None,), name="tokens")
    projected = keras.layers.Dense(units)(feature_in)
    embedded = keras.layers.Embedding(vocabulary, embedding_dim, mask_zero=True)(tokens_in)
    hidden = keras.layers.LSTM(units, return_sequences=True)(embedded, initial_state=[projected, projected])
    bare = keras.Model({"features": feature_in, "tokens": tokens_in}, keras.layers.Dense(vocabulary)(hidden))
    bare.compile(optimizer=make_optimizer("adam", 1e-3), loss=loss)
    result = {"training": _training({"textmodels": ours, "bare_keras": bare}, x, y, batch, repeats)}

    images = features[: CAPTIONER["images"]]
    ours.generate(images[:2], beam_size=CAPTIONER["beam"])  # warm-up: the compiled steps
    ours.generate(images, beam_size=CAPTIONER["beam"])  # and this batch size (JAX compiles per shape)
    started = time.perf_counter()
    ours.generate(images, beam_size=CAPTIONER["beam"])
    result["decoding_images_per_second"] = len(images) / (time.perf_counter() - started)
    return result


def worker(args) -> int:
    started = time.perf_counter()
    report = {
        "keras_backend": keras.backend.backend(),
        "language_model": language_model(args.batches, args.repeats, args.tokens),
        "classifier": classifier(args.batches, args.repeats),
        "captioner": captioner(args.batches, args.repeats),
    }
    report["seconds"] = time.perf_counter() - started
    Path(args.worker).write_text(json.dumps(report))
    return 0


def _run_backend(backend: str, args) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "report.json"
        command = [sys.executable, __file__, "--worker", str(out), "--batches", str(args.batches),
                   "--repeats", str(args.repeats), "--tokens", str(args.tokens)]
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
        completed = subprocess.run(command, env=env, capture_output=True, text=True)
        if completed.returncode != 0:
            return {"keras_backend": backend, "error": completed.stderr.strip().splitlines()[-1:]}
        return json.loads(out.read_text())


def _table(reports: dict) -> list[str]:
    ok = {name: report for name, report in reports.items() if "error" not in report}
    fastest = {
        key: max(report[model][key] for report in ok.values())
        for model, key in (("language_model", "generation_tokens_per_second"),
                           ("captioner", "decoding_images_per_second"))
    }
    header = f"{'backend':<11} {'measure':<44} {'textmodels':>11} {'reference':>11} {'ratio':>7} {'target':>8}"
    lines = [header, "-" * len(header)]
    for name, report in reports.items():
        if "error" in report:
            lines.append(f"{name:<11} failed: {' '.join(report['error'])}")
            continue
        for model, label in (("language_model", "LM training steps/s"), ("classifier", "classifier training steps/s"),
                             ("captioner", "caption decoder training steps/s")):
            training = report[model]["training"]
            rates = training["steps_per_second"]
            lines.append(f"{name:<11} {label + ' (vs bare)':<44} {rates['textmodels']:>11.1f} "
                         f"{rates['bare_keras']:>11.1f} {training['ratio']:>7.2f} {'>= 0.9':>8}")
        for model, key, label in (("language_model", "generation_tokens_per_second", "generation tokens/s"),
                                  ("captioner", "decoding_images_per_second", "caption decoding images/s")):
            value = report[model][key]
            lines.append(f"{name:<11} {label + ' (vs fastest)':<44} {value:>11.1f} {fastest[key]:>11.1f} "
                         f"{value / fastest[key]:>7.2f} {'>= 0.5':>8}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated, default: all three")
    parser.add_argument("--batches", type=int, default=20, help="training batches per timed epoch")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=200, help="tokens generated per timed run")
    parser.add_argument("--quick", action="store_true", help="8 batches, 1 repeat, 50 tokens")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # internal: one backend, to this file
    args = parser.parse_args(argv)
    if args.quick:
        args.batches, args.repeats, args.tokens = 8, 1, 50
    if args.worker:
        return worker(args)
    backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        print(f"error: unknown backend(s) {', '.join(unknown)}; choose from {', '.join(BACKENDS)}", file=sys.stderr)
        return 2
    machine = machine_description()
    reports = {backend: _run_backend(backend, args) for backend in backends}
    report = {
        "benchmark": "backends",
        "command": "python benchmarks/backends.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine,
        "sizes": {"language_model": LM, "classifier": CLASSIFIER, "captioner": CAPTIONER, "vocabulary": VOCABULARY},
        "settings": {"batches": args.batches, "repeats": args.repeats, "tokens": args.tokens},
        "targets": {"training_vs_bare": 0.9, "decoding_vs_fastest_backend": 0.5},
        "backends": reports,
    }
    output = args.output or RESULTS / ("backends_quick.json" if args.quick else "backends.json")
    write_report(report, output)
    print("\n".join(_table(reports)))
    print(f"-> {output}")
    return 0 if all("error" not in report for report in reports.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
