"""Training throughput of TextRNN against a bare Keras ``Bidirectional(LSTM)`` model of the same size, on the
same batches, plus a check that TextRNN's padding and masking keep the LSTM eligible for its fused kernel.

Samples/s are measured per training step inside ``fit`` (from the start of the first timed step to the end of
the last), after warm-up steps that absorb tracing; the two models alternate for several rounds so that load
from other processes on a shared machine hits both alike. The fused (cuDNN) LSTM kernel is a GPU kernel: on a
CPU-only machine this script verifies every condition Keras checks before choosing it, and says that the
kernel itself could not run.

    python benchmarks/textrnn_throughput.py            # MR sentences, batch 64, 3 rounds
    python benchmarks/textrnn_throughput.py --quick    # a smoke run
    python benchmarks/textrnn_throughput.py --defaults --units 64 --name textrnn_throughput_defaults
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classification_common import format_table, machine_info, write_results  # noqa: E402


def make_step_timer():
    """A Keras callback recording each training step's begin and end times (``.begins``, ``.ends``)."""
    import keras

    class StepTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.begins, self.ends = [], []

        def on_train_batch_begin(self, batch, logs=None):
            self.begins.append(time.perf_counter())

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())

    return StepTimer()


def make_batches(args):
    """Fixed, right-padded id batches: real MR sentences when the shared data is there, else synthetic."""
    import numpy as np

    from textmodels.data.paths import shared_data_dir
    from textmodels.text import TextEncoder

    rng = np.random.default_rng(0)
    total = args.batch_size * args.steps
    data_dir = shared_data_dir()
    if data_dir is not None and (data_dir / "nltk" / "sentence_polarity.zip").is_file():
        from textmodels.data import read_sentence_polarity

        data = read_sentence_polarity(data_dir / "nltk" / "sentence_polarity.zip")
        order = rng.permutation(len(data))[:total]
        texts = [data.texts[i] for i in order]
        labels = np.array([data.labels[i] == "pos" for i in order], dtype="float32")[:, None]
        encoder = TextEncoder.fit(texts, max_size=args.vocabulary, max_length=args.max_length)
        ids, source = encoder.encode(texts), "MR sentences (sentence_polarity.zip)"
        vocabulary = len(encoder.vocabulary)
    else:
        lengths = rng.integers(3, args.max_length + 1, total)
        ids = np.zeros((total, args.max_length), dtype="int32")
        for row, length in enumerate(lengths):
            ids[row, :length] = rng.integers(4, args.vocabulary, length)
        labels = rng.integers(0, 2, (total, 1)).astype("float32")
        source, vocabulary = "synthetic right-padded ids", args.vocabulary
    size = args.batch_size
    batches = [(ids[i : i + size], labels[i : i + size]) for i in range(0, total, size)]
    return batches, vocabulary, source


def build_models(vocabulary: int, args):
    import keras

    from textmodels.classification.text_rnn import TextRNN

    if args.defaults:
        # The classifier's defaults (max pooling, embedding, token and output dropout) against the same layers in
        # plain Keras; the bare model has no token dropout, so that op counts against TextRNN.
        from textmodels.classifier_config import DEFAULTS

        text_rnn = TextRNN(
            vocabulary, 2, embedding_dim=args.embedding_dim, units=args.units, pooling=DEFAULTS.pooling,
            dropout=DEFAULTS.dropout, embedding_dropout=DEFAULTS.embedding_dropout,
            token_dropout=DEFAULTS.token_dropout, problem="binary", label_names=["neg", "pos"],
        )
        bare = keras.Sequential([
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(vocabulary, args.embedding_dim, mask_zero=True),
            keras.layers.Dropout(DEFAULTS.embedding_dropout),
            keras.layers.Bidirectional(keras.layers.LSTM(args.units, return_sequences=True)),
            keras.layers.GlobalMaxPooling1D(),
            keras.layers.Dropout(DEFAULTS.dropout),
            keras.layers.Dense(1, activation="sigmoid"),
        ])
    else:
        text_rnn = TextRNN(
            vocabulary, 2, embedding_dim=args.embedding_dim, units=args.units, pooling="last", dropout=0.0,
            embedding_dropout=0.0, problem="binary", label_names=["neg", "pos"],
        )
        bare = keras.Sequential([
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(vocabulary, args.embedding_dim, mask_zero=True),
            keras.layers.Bidirectional(keras.layers.LSTM(args.units)),
            keras.layers.Dense(1, activation="sigmoid"),
        ])
    text_rnn.build((None, args.max_length))
    for model in (text_rnn, bare):
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    return {"TextRNN": text_rnn, "Bidirectional(LSTM)": bare}


def fused_kernel_check(text_rnn, batches) -> dict:
    """Every condition Keras' TensorFlow backend checks before running the cuDNN LSTM kernel."""
    import importlib

    import keras
    from keras import ops

    # The package re-exports a function named `rnn` over the module of the same name, so import it by path.
    tf_rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")

    lstms = []
    for layer in text_rnn.recurrent.recurrent_layers:
        bidirectional = isinstance(layer, keras.layers.Bidirectional)
        lstms += [layer.forward_layer, layer.backward_layer] if bidirectional else [layer]
    layers = [
        {
            "layer": lstm.name,
            "is_keras_LSTM": isinstance(lstm, keras.layers.LSTM),
            "use_cudnn": lstm.use_cudnn,
            "recurrent_dropout": lstm.recurrent_dropout,
            "unroll": lstm.unroll,
            "arguments_support_cudnn": bool(tf_rnn._do_lstm_arguments_support_cudnn(
                lstm.cell.activation, lstm.cell.recurrent_activation, lstm.unroll, lstm.cell.use_bias)),
        }
        for lstm in lstms
    ]
    masks = [ops.not_equal(ops.convert_to_tensor(ids), 0) for ids, _ in batches]
    right_padded = all(bool(tf_rnn._is_sequence_right_padded(mask)) for mask in masks)
    no_empty_rows = not any(bool(tf_rnn._has_fully_masked_sequence(mask)) for mask in masks)
    gpu = bool(tf_rnn._is_gpu_available())
    eligible = (
        text_rnn.recurrent.fused_kernel_eligible and right_padded and no_empty_rows
        and all(lstm["is_keras_LSTM"] and lstm["use_cudnn"] == "auto" and lstm["recurrent_dropout"] == 0
                and lstm["arguments_support_cudnn"] for lstm in layers)
    )
    return {
        "lstm_layers": layers,
        "block_fused_kernel_eligible": text_rnn.recurrent.fused_kernel_eligible,
        "all_batch_masks_right_padded": right_padded,
        "no_fully_masked_rows": no_empty_rows,
        "gpu_available": gpu,
        "cudnn_ok_here": bool(tf_rnn.cudnn_ok(lstms[0].cell.activation, lstms[0].cell.recurrent_activation,
                                               lstms[0].unroll, lstms[0].cell.use_bias)),
        "eligible_for_fused_kernel": eligible,
        "note": (
            "The fused cuDNN LSTM kernel is a GPU kernel. " + (
                "A GPU is present: Keras runs it when eligible." if gpu else
                "No GPU here, so it could not run; every other condition Keras checks before choosing it "
                "(keras LSTM with use_cudnn='auto', recurrent_dropout 0, tanh/sigmoid, no unroll, bias, strictly "
                "right-padded masks with no fully masked row) was verified on the actual batches."
            )
        ),
    }


def timed_round(model, batches, warmup: int) -> float:
    import keras

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()

        def __len__(self):
            return len(batches)

        def __getitem__(self, index):
            return batches[index]

    timer = make_step_timer()
    model.fit(Batches(), epochs=1, verbose=0, callbacks=[timer], shuffle=False)
    begins, ends = timer.begins[warmup:], timer.ends[warmup:]
    samples = sum(len(batches[i][0]) for i in range(warmup, len(batches)))
    return samples / (ends[-1] - begins[0])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=40, help="training steps per round")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps at the start of each round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per model")
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--max-length", type=int, default=50)
    parser.add_argument("--vocabulary", type=int, default=20000)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 12 steps, 2 rounds, 32 units")
    parser.add_argument("--defaults", action="store_true",
                        help="TextRNN with the classifier's default pooling and dropouts (textmodels.classifier_config)"
                        " against the same layers in plain Keras")
    parser.add_argument("--name", default="textrnn_throughput", help="results file name")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.warmup, args.rounds, args.units, args.name = 12, 3, 2, 32, args.name + "_quick"
    import keras

    keras.utils.set_random_seed(0)
    started = time.time()
    info = machine_info()
    batches, vocabulary, source = make_batches(args)
    models = build_models(vocabulary, args)
    parameters = {name: int(model.count_params()) for name, model in models.items()}
    rates = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            rates[name].append(timed_round(model, batches, args.warmup))
    medians = {name: statistics.median(values) for name, values in rates.items()}
    ratio = medians["TextRNN"] / medians["Bidirectional(LSTM)"]
    # Rounds run back to back, so a round's pair saw similar load; the median of paired ratios resists bursts.
    paired = statistics.median(a / b for a, b in zip(rates["TextRNN"], rates["Bidirectional(LSTM)"]))
    check = fused_kernel_check(models["TextRNN"], batches)
    # Real (non-padding) tokens per sample of the timed batches: samples/s times this is training tokens/s.
    timed = batches[args.warmup:]
    tokens_per_sample = sum(int((ids != 0).sum()) for ids, _ in timed) / sum(len(ids) for ids, _ in timed)
    rows = [
        {"model": name, "parameters": parameters[name], "samples/s (median)": f"{medians[name]:.0f}",
         "tokens/s (median)": f"{medians[name] * tokens_per_sample:.0f}",
         "rounds": " ".join(f"{value:.0f}" for value in rates[name])}
        for name in models
    ]
    print(format_table(rows, ["model", "parameters", "samples/s (median)", "tokens/s (median)", "rounds"]))
    print(f"\nTextRNN / bare ratio: {ratio:.3f} of medians, {paired:.3f} median of paired rounds "
          f"(target >= 0.9: {'met' if min(ratio, paired) >= 0.9 else 'MISSED'})")
    print(f"Fused-kernel eligibility: {check['eligible_for_fused_kernel']}. {check['note']}")
    payload = {
        "benchmark": "TextRNN vs bare Bidirectional(LSTM) training throughput",
        "machine": info,
        "settings": {**vars(args), "data": source, "vocabulary_size": vocabulary},
        "parameters": parameters,
        "samples_per_second": rates,
        "median_samples_per_second": medians,
        "tokens_per_sample": tokens_per_sample,
        "median_tokens_per_second": {name: rate * tokens_per_sample for name, rate in medians.items()},
        "ratio_textrnn_over_bare": ratio,
        "median_paired_ratio": paired,
        "target_met": min(ratio, paired) >= 0.9,
        "fused_kernel_check": check,
        "wall_time_s": time.time() - started,
    }
    print(f"Results: {write_results(args.name, payload)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
