"""Load on the caption server: the same requests sent one at a time and from 8 concurrent clients, side by side.

Starts ``captioner serve MODEL --port 0`` as its own process on 127.0.0.1 (nothing else is contacted), warms it
up, then runs ``--repeats`` rounds; each round sends ``--requests`` POST /caption requests (beam width 3, one
caption, photos taken in turn from ``--images``) first sequentially from one client, then from ``--clients``
concurrent clients (keep-alive connections, one per client). It reports requests/s, latency percentiles, the
mean batch the server formed (from /health) and the server's resident memory (VmRSS) after warm-up and after
every run, and writes them to ``benchmarks/results/serving_load*.json``.

Targets (issue 13): concurrent throughput >= 2x sequential (dynamic batching at work); no memory growth
across repeated runs.

Without ``--model`` it trains the small synthetic-shapes captioner the serving tests use (32-px images, GRU
48; about 20 s). ``--flickr-sized`` instead builds a captioner of the Flickr8k model's shape (MobileNetV2
encoder at 224 px, random weights; LSTM 256 decoder over a 3,000-word vocabulary): the same computation as
the real-photo model, whose trained weights do not change the cost.

Example:
    .venv/bin/python benchmarks/serving_load.py --quick
    .venv/bin/python benchmarks/serving_load.py
    .venv/bin/python benchmarks/serving_load.py --flickr-sized \
        --output benchmarks/results/serving_load_flickr_sized.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parent.parent


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _machine() -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average at start {load}"


def synthetic_model(folder: Path) -> tuple[Path, list[Path]]:
    """The serving tests' captioner: 200 synthetic 32-px images, 6 epochs (seeded, so always the same)."""
    from captioner.config import CaptionerConfig
    from captioner.data import make_synthetic, read_coco
    from captioner.training import train_captioner

    captions = make_synthetic(folder / "data", num_images=200, image_size=32, seed=0)
    config = CaptionerConfig(image_size=32, conv_filters=(8, 16), feature_dim=64, embedding_dim=16, units=48,
                             cell="gru", min_count=1, max_length=12, epochs=6, batch_size=16, learning_rate=3e-3,
                             patience=None)
    out = folder / "shapes.keras"
    train_captioner(read_coco(captions, folder / "data"), config, out=out, verbose=0)
    return out, sorted((folder / "data").glob("*.png"))[-20:]


def flickr_sized_model(folder: Path) -> Path:
    """MobileNetV2 (random weights) + LSTM 256 over a 3,000-word vocabulary, max 20 words: the real model's cost."""
    from captioner.api import Captioner
    from captioner.encoder import encoder_config
    from captioner.model import CaptionModel, fit_caption_vocabulary

    words = [f"w{index}" for index in range(3000)]
    vocabulary = fit_caption_vocabulary([" ".join(words)], min_count=1, max_length=20)
    model = CaptionModel.create(vocabulary, encoder_config("mobilenet_v2", weights=None), embedding_dim=128,
                                units=256, cell="lstm")
    return Captioner(model).save(folder / "flickr_sized.keras")


class Server:
    """``captioner serve`` in its own process, on a free localhost port."""

    def __init__(self, model: Path):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        self.process = subprocess.Popen([sys.executable, "-m", "captioner.cli", "serve", str(model), "--port", "0"],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                                        cwd=REPO)
        line = self.process.stdout.readline()
        if " at http://127.0.0.1:" not in line:
            self.process.kill()
            raise RuntimeError(f"the server did not start: {line!r}")
        self.url = line.split(" at ")[1].split()[0]

    def health(self) -> dict:
        return httpx.get(f"{self.url}/health", timeout=30).json()

    def rss_mib(self) -> float:
        return _rss_mib(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def run_load(url: str, photos: list[tuple[str, bytes]], requests: int, clients: int) -> dict:
    """``requests`` captions from ``clients`` concurrent keep-alive clients; latencies and throughput."""
    latencies: list[float] = []
    failures: list[str] = []
    counter = iter(range(requests))
    lock = threading.Lock()

    def client():
        with httpx.Client(timeout=120) as session:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                name, data = photos[index % len(photos)]
                started = time.perf_counter()
                kind = "image/png" if name.endswith(".png") else "image/jpeg"
                response = session.post(f"{url}/caption", files={"image": (name, data, kind)},
                                        data={"beam_size": "3", "num_captions": "1"})
                elapsed = time.perf_counter() - started
                with lock:
                    if response.status_code == 200:
                        latencies.append(elapsed)
                    else:
                        failures.append(f"{response.status_code} {response.text[:100]}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "clients": clients, "requests": requests, "ok": len(latencies), "failed": len(failures),
        "failures": failures[:5], "seconds": round(wall, 2), "requests_per_s": round(len(latencies) / wall, 2),
        "latency_ms": {name: round(1000 * _percentile(latencies, q), 1)
                       for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))} if latencies else {},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="a captioner .keras file (default: the synthetic test model)")
    parser.add_argument("--flickr-sized", action="store_true", help="a random-weight model of the Flickr8k shape")
    parser.add_argument("--images", type=Path, help="folder of photos to send (default: Flickr8k 224-px photos)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100 requests, 2 repeats")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.repeats = 100, 2
    output = args.output or RESULTS / ("serving_load_quick.json" if args.quick else "serving_load.json")

    scratch = Path(tempfile.mkdtemp(prefix="serving_load_"))
    fallback_photos: list[Path] = []
    if args.model:
        model, model_kind = args.model, str(args.model)
    elif args.flickr_sized:
        model = flickr_sized_model(scratch)
        model_kind = "Flickr8k-sized (MobileNetV2 224 px + LSTM 256, random weights)"
    else:
        model, fallback_photos = synthetic_model(scratch)
        model_kind = "synthetic shapes (32 px, GRU 48), as in the serving tests"
    images = args.images or REPO.parent / "shared" / "data" / "flickr8k" / "images_224"
    paths = sorted(images.glob("*.jpg"))[:50] if images.is_dir() else []
    paths = paths or fallback_photos
    if not paths:
        parser.error(f"no photos in {images}; pass --images")
    photos = [(path.name, path.read_bytes()) for path in paths]

    server = Server(model)
    report = {
        "benchmark": "serving_load", "model": model_kind, "machine": _machine(), "photos": len(photos),
        "photo_source": str(images if args.images or paths != fallback_photos else "synthetic test images"),
        "requests_per_run": args.requests, "concurrent_clients": args.clients, "repeats": args.repeats,
        "runs": [],
    }
    try:
        run_load(server.url, photos, 8 * args.clients, args.clients)  # warm-up: every batch size, allocations settle
        report["rss_mib_after_warmup"] = round(server.rss_mib(), 1)
        for repeat in range(args.repeats):
            for clients in (1, args.clients):
                before = server.health()["batches"]
                result = run_load(server.url, photos, args.requests, clients)
                after = server.health()["batches"]
                batches = after["count"] - before["count"]
                result["mean_batch"] = round((after["images"] - before["images"]) / batches, 2) if batches else None
                result["repeat"] = repeat + 1
                result["rss_mib_after"] = round(server.rss_mib(), 1)
                report["runs"].append(result)
                print(f"repeat {repeat + 1}  clients {clients}: {result['requests_per_s']:7.2f} req/s  "
                      f"p50 {result['latency_ms'].get('p50')} ms  mean batch {result['mean_batch']}  "
                      f"RSS {result['rss_mib_after']} MiB  failed {result['failed']}", flush=True)
    finally:
        server.stop()

    sequential = [run for run in report["runs"] if run["clients"] == 1]
    concurrent = [run for run in report["runs"] if run["clients"] == args.clients]
    ratios = [c["requests_per_s"] / s["requests_per_s"] for s, c in zip(sequential, concurrent)]
    rss = [run["rss_mib_after"] for run in report["runs"]]
    # Measured at the same point of every round (after its concurrent run): growth from round to round.
    rss_per_repeat = [run["rss_mib_after"] for run in concurrent]
    report["summary"] = {
        "sequential_requests_per_s_median": statistics.median(run["requests_per_s"] for run in sequential),
        "concurrent_requests_per_s_median": statistics.median(run["requests_per_s"] for run in concurrent),
        "throughput_ratio_per_repeat": [round(ratio, 2) for ratio in ratios],
        "throughput_ratio_median": round(statistics.median(ratios), 2),
        "target_ratio": 2.0,
        "rss_mib_after_warmup": report["rss_mib_after_warmup"],
        "rss_mib_after_each_repeat": rss_per_repeat,
        "rss_growth_mib_first_to_last_repeat": round(rss_per_repeat[-1] - rss_per_repeat[0], 1),
        "rss_growth_mib_warmup_to_last_run": round(rss[-1] - report["rss_mib_after_warmup"], 1),
        "failed_requests": sum(run["failed"] for run in report["runs"]),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))

    print(f"\n{model_kind}; {args.requests} requests per run, {len(photos)} photos; {report['machine']}")
    print(f"{'run':<22}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'batch':>7}{'RSS MiB':>9}")
    for run in report["runs"]:
        kind = "sequential" if run["clients"] == 1 else f"{run['clients']} clients"
        label = f"#{run['repeat']} {kind}"
        latency = run["latency_ms"]
        print(f"{label:<22}{run['requests_per_s']:>8.2f}{latency.get('p50', 0):>9.1f}{latency.get('p95', 0):>9.1f}"
              f"{latency.get('p99', 0):>9.1f}{run['mean_batch'] or 0:>7.2f}{run['rss_mib_after']:>9.1f}")
    summary = report["summary"]
    print(f"throughput {args.clients} clients / sequential: {summary['throughput_ratio_median']}x (median; target "
          f">= 2x); RSS after warm-up {report['rss_mib_after_warmup']} MiB, after each repeat "
          f"{', '.join(map(str, rss_per_repeat))} MiB")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
