"""Caption latency of one photo: warm ``Captioner.caption`` against the bare network, and the cold start of
``captioner caption photo.jpg`` against importing TensorFlow and loading the model. Side by side in one run,
best of N each.

Warm (one process, everything traced first): one 224 px JPEG through ``Captioner.caption(path)`` (beam 3: read
and resize the file, MobileNetV2, beam search, words) against the bare work it cannot avoid: the MobileNetV2
forward pass (a ``tf.function`` of the encoder on the already decoded pixels) plus the decoder steps the same
search ran (the compiled start and step functions called once per step on the beam's rows, no search
bookkeeping). Target: at most 1.5x.

Cold (fresh processes): ``python -m captioner.cli caption photo.jpg`` with no model argument (the default preset
of a registry made here, digest check included), from process start to the printed caption, against
``python -c "import tensorflow"`` followed, in the same process, by ``keras.saving.load_model`` of the same file.
Target: at most 2x.

The model is a Flickr8k-sized captioner: MobileNetV2 encoder with the shared ImageNet weights file
(``../shared/data/weights/...no_top.weights.h5``), the vocabulary of the Flickr8k captions (min count 5), an LSTM
256 decoder; untrained, so every beam runs to the longest caption (more steps than a trained model takes).

Example:
    .venv/bin/python benchmarks/caption_latency.py            # warm best of 20, cold best of 3
    .venv/bin/python benchmarks/caption_latency.py --quick    # warm best of 5, cold best of 1
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

import numpy as np  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = "weights/mobilenet_v2_1.00_224_imagenet_from_tflite_no_top.weights.h5"
BEAM = 3
WARM_TARGET = 1.5
COLD_TARGET = 2.0


def _captions(shared: Path | None) -> list[str]:
    path = shared / "flickr8k" / "captions_flickr8k.json" if shared else None
    if path and path.is_file():
        data = json.loads(path.read_text())
        train = {image["id"] for image in data["images"] if image.get("split") == "train"}
        return [annotation["caption"] for annotation in data["annotations"] if annotation["image_id"] in train]
    rng = np.random.default_rng(0)
    words = [f"w{index}" for index in range(2500)]
    return [" ".join(rng.choice(words, size=11)) for _ in range(30000)]


def build_model(shared: Path | None):
    """A Flickr8k-sized MobileNetV2 + LSTM 256 captioner (random decoder weights)."""
    from captioner.encoder import encoder_config
    from captioner.model import CaptionModel, fit_caption_vocabulary

    weights = shared / WEIGHTS if shared and (shared / WEIGHTS).is_file() else None
    text_encoder = fit_caption_vocabulary(_captions(shared), min_count=5, max_length=20)
    return CaptionModel.create(text_encoder, encoder_config("mobilenet_v2", weights=weights and str(weights)),
                               embedding_dim=256, units=256, cell="lstm"), weights


def photo_file(shared: Path | None, folder: Path) -> Path:
    """A 224 px Flickr8k test photo (or random pixels saved as a JPEG when the data is absent)."""
    from PIL import Image

    source = sorted((shared / "flickr8k" / "images_224").glob("*.jpg"))[:1] if shared else []
    path = folder / "photo.jpg"
    if source:
        path.write_bytes(source[0].read_bytes())
    else:
        pixels = np.random.default_rng(0).integers(0, 255, (224, 224, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path, quality=90)
    return path


def best_of(repeats: int, *functions) -> list[float]:
    """The fastest of ``repeats`` calls of each of ``functions``, in seconds; the calls are interleaved, so a change
    in the machine's load hits them alike."""
    times = [[] for _ in functions]
    for _ in range(repeats):
        for function, measured in zip(functions, times):
            started = time.perf_counter()
            function()
            measured.append(time.perf_counter() - started)
    return [min(measured) for measured in times]


def warm_latency(model_path: Path, photo: Path, repeats: int) -> dict:
    """``Captioner.caption`` of one photo against the bare encoder pass plus the bare decoder steps."""
    import tensorflow as tf

    from captioner.api import Captioner
    from captioner.data.images import load_image

    captioner = Captioner.load(model_path)
    model = captioner.model
    start, step = model.decoding_functions()
    counted = {"steps": 0}

    def counting_step(tokens, state):
        counted["steps"] += 1
        return step(tokens, state)

    captioner.caption(photo, beam_size=BEAM)  # warm-up
    pixels = load_image(photo, size=model.image_size)[None]
    features = model.encode_images(pixels)
    from textmodels.decoding import beam_search
    from textmodels.text import Vocabulary

    beam_search(counting_step, start(features), 1, bos_id=Vocabulary.bos_id, eos_id=Vocabulary.eos_id,
                max_length=model.max_caption_length + 1, beam_size=BEAM)
    steps = counted["steps"]

    encoder = tf.function(lambda batch: model.encoder(batch, training=False))
    pixels_tensor = tf.constant(pixels)
    encoder(pixels_tensor)

    def bare_encoder():
        encoder(pixels_tensor).numpy()

    tokens = np.full(BEAM, Vocabulary.bos_id, np.int32)
    beam_features = np.repeat(features, BEAM, axis=0)

    def bare_decoder():
        state = start(beam_features)
        for _ in range(steps):
            log_probs, state = step(tokens, state)

    bare_decoder()
    caption_s, encoder_s, decoder_s = best_of(repeats, lambda: captioner.caption(photo, beam_size=BEAM),
                                              bare_encoder, bare_decoder)
    bare_s = encoder_s + decoder_s
    return {"caption_ms": round(caption_s * 1000, 1), "bare_encoder_ms": round(encoder_s * 1000, 1),
            "bare_decoder_steps_ms": round(decoder_s * 1000, 1), "decoder_steps": steps,
            "bare_total_ms": round(bare_s * 1000, 1), "ratio": round(caption_s / bare_s, 2),
            "target_ratio": WARM_TARGET, "caption": captioner.caption(photo, beam_size=BEAM)}


def _run(command: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr[-2000:]}")
    return seconds, result.stdout


def cold_start(registry: Path, model_path: Path, photo: Path, repeats: int) -> dict:
    """``captioner caption photo.jpg`` (default preset) against import tensorflow + load_model, fresh processes."""
    from captioner.presets import PRESETS_DIR_ENV

    env = {**os.environ, PRESETS_DIR_ENV: str(registry), "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    caption_command = [sys.executable, "-m", "captioner.cli", "caption", str(photo)]
    import_command = [sys.executable, "-c", "import tensorflow"]
    load_command = [sys.executable, "-c", "import tensorflow, keras, captioner.model; "
                    f"keras.saving.load_model({str(model_path)!r}, safe_mode=True, compile=False)"]
    caption_times, import_times, load_times, printed = [], [], [], ""
    for _ in range(repeats):  # interleaved, so a change in the machine's load hits all three alike
        seconds, printed = _run(caption_command, env)
        caption_times.append(seconds)
        import_times.append(_run(import_command, env)[0])
        load_times.append(_run(load_command, env)[0])
    caption_s, import_s, load_s = min(caption_times), min(import_times), min(load_times)
    return {"caption_command_s": round(caption_s, 2), "import_tensorflow_s": round(import_s, 2),
            "import_tensorflow_and_load_model_s": round(load_s, 2), "ratio": round(caption_s / load_s, 2),
            "target_ratio": COLD_TARGET, "printed": printed.strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-repeats", type=int, default=20)
    parser.add_argument("--cold-repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="warm best of 5, cold best of 1")
    parser.add_argument("--note", default="", help="recorded in the JSON (e.g. what else the machine was running)")
    args = parser.parse_args()
    warm_repeats, cold_repeats = (5, 1) if args.quick else (args.warm_repeats, args.cold_repeats)

    from captioner.api import Captioner
    from captioner.presets import DEFAULT_PRESET
    from captioner.presets.build import build_preset
    from textmodels.data.paths import shared_data_dir

    shared = shared_data_dir()
    with tempfile.TemporaryDirectory(prefix="caption-latency-") as folder:
        folder = Path(folder)
        model, weights = build_model(shared)
        registry = folder / "registry"
        source = Captioner(model).save(folder / "model.keras")
        build_preset(source, DEFAULT_PRESET, out_dir=registry, description="benchmark model", log=None)
        model_path = registry / f"{DEFAULT_PRESET}.keras"
        photo = photo_file(shared, folder)
        warm = warm_latency(model_path, photo, warm_repeats)
        cold = cold_start(registry, model_path, photo, cold_repeats)
        size_mb = round(model_path.stat().st_size / 1e6, 1)

    result = {
        "benchmark": "caption_latency",
        "model": f"MobileNetV2 ({'shared ImageNet weights' if weights else 'random weights'}) + LSTM 256, "
                 f"vocabulary {len(model.text_encoder.vocabulary)}, untrained decoder",
        "model_file_mb": size_mb,
        "beam_size": BEAM,
        "cpu_threads": os.cpu_count(),
        "warm": {**warm, "best_of": warm_repeats, "within_target": warm["ratio"] <= WARM_TARGET},
        "cold": {**cold, "best_of": cold_repeats, "within_target": cold["ratio"] <= COLD_TARGET},
        "note": args.note,
        "command": "python benchmarks/caption_latency.py" + (" --quick" if args.quick else ""),
    }
    print(f"{'measure':44s}{'ours':>10s}{'bare':>10s}{'ratio':>8s}{'target':>8s}")
    print(f"{'warm: one 224 px photo, beam 3 (ms)':44s}{warm['caption_ms']:10.1f}{warm['bare_total_ms']:10.1f}"
          f"{warm['ratio']:8.2f}{WARM_TARGET:8.1f}")
    print(f"{'  bare = encoder + decoder steps (ms)':44s}{'':10s}"
          f"{warm['bare_encoder_ms']:5.0f}+{warm['bare_decoder_steps_ms']:<4.0f}")
    print(f"{'cold: captioner caption photo.jpg (s)':44s}{cold['caption_command_s']:10.2f}"
          f"{cold['import_tensorflow_and_load_model_s']:10.2f}{cold['ratio']:8.2f}{COLD_TARGET:8.1f}")
    print(f"{'  import tensorflow alone (s)':44s}{'':10s}{cold['import_tensorflow_s']:10.2f}")
    RESULTS.mkdir(exist_ok=True)
    name = "caption_latency_quick.json" if args.quick else "caption_latency.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
