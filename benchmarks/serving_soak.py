"""Soak, latency and worker benchmarks of ``captioner serve`` with a Flickr8k-sized captioner, on 127.0.0.1 only.

The server runs as its own process (``captioner serve MODEL --port 0``), started fresh for each phase; the
clients are threads of this process with keep-alive connections. Nothing but 127.0.0.1 is ever contacted.

Phases (``--phases``, default all three):

- ``latency``: the page (``GET /``) and the API (``POST /caption``, one 224-px Flickr8k photo, beam 3) from 1
  and then 8 concurrent clients, ``--latency-requests`` each: median and 99th-percentile latency; and the very
  first request after the server says it is ready (the warm-up's job: it costs what a warm one costs).
- ``workers``: the same API load (8 clients) on ``--workers 1`` and ``--workers 2``: requests/s, and each
  worker's resident memory (RSS, and PSS, which counts shared pages once).
- ``soak``: ``--requests`` (20,000) requests from ``--clients`` (16) clients: a photo of a width drawn
  log-uniformly from 64 to 4,000 px (one photo a request, the API's maximum), beam 1-5, 1..beam captions, and
  ``--bad-fraction`` (10%) bad inputs of eight kinds, each checked for its documented status. Every 1,000
  requests: throughput, median and p99 latency of the good ones, and the server's RSS.

Targets (issue 27): RSS after the last request within 5% of RSS at request 2,000; no 5xx; p99 of the last
1,000 requests within 1.5x the first 1,000 (the server warms up before it accepts any).

The model has the Flickr8k captioner's shape: MobileNetV2 at 224 px (ImageNet weights from
``../shared/data/weights`` when present, else random: the cost is the same), an LSTM-256 decoder over a 3,000-word
vocabulary, captions up to 20 words; its weights are untrained, which changes no cost but the caption lengths
(they run to the maximum, the slowest case).

Example:
    .venv/bin/python benchmarks/serving_soak.py --phases soak --requests 2000   # a short check (~15 min)
    .venv/bin/python benchmarks/serving_soak.py                                 # all phases, 20,000 requests
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
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
SHARED = REPO.parent / "shared" / "data"
WEIGHTS = SHARED / "weights" / "mobilenet_v2_1.00_224_imagenet_from_tflite_no_top.weights.h5"
WINDOW = 1000


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def _status_kib(pid: int, field: str) -> int:
    path = Path(f"/proc/{pid}/smaps_rollup" if field == "Pss" else f"/proc/{pid}/status")
    for line in path.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def _machine() -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{os.cpu_count()} cores, load average at start {load}"


def flickr_sized_model(folder: Path) -> tuple[Path, str]:
    """MobileNetV2 (ImageNet weights when the file is there) + LSTM 256 over 3,000 words, max 20 words."""
    from captioner.api import Captioner
    from captioner.encoder import encoder_config
    from captioner.model import CaptionModel, fit_caption_vocabulary

    weights = str(WEIGHTS) if WEIGHTS.is_file() else None
    words = [f"w{index}" for index in range(3000)]
    vocabulary = fit_caption_vocabulary([" ".join(words)], min_count=1, max_length=20)
    model = CaptionModel.create(vocabulary, encoder_config("mobilenet_v2", weights=weights), embedding_dim=128,
                                units=256, cell="lstm")
    kind = f"MobileNetV2 224 px ({'ImageNet' if weights else 'random'} weights) + LSTM 256, 3,000 words, untrained"
    return Captioner(model).save(folder / "flickr_sized.keras"), kind


class Server:
    """``captioner serve MODEL --port 0 [--workers N]`` as its own process; ready once it prints its line."""

    def __init__(self, model: Path, workers: int = 1):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "captioner.cli", "serve", str(model), "--port", "0", "--workers", str(workers)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=REPO)
        line = self.process.stdout.readline()
        if " at http://127.0.0.1:" not in line:
            self.process.kill()
            raise RuntimeError(f"the server did not start: {line!r}")
        self.start_seconds = time.perf_counter() - started
        self.url = line.split(" at ")[1].split()[0]
        self.workers = workers

    def worker_pids(self) -> list[int]:
        if self.workers == 1:
            return [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        # uvicorn's spawn start method adds a small resource tracker beside the workers: not a worker.
        return [int(pid) for pid in children if "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text()]

    def memory_mib(self) -> dict:
        pids = self.worker_pids()
        return {"rss_mib": [round(_status_kib(pid, "VmRSS") / 1024, 1) for pid in pids],
                "pss_mib": [round(_status_kib(pid, "Pss") / 1024, 1) for pid in pids],
                "supervisor_rss_mib": (round(_status_kib(self.process.pid, "VmRSS") / 1024, 1)
                                       if self.workers > 1 else None)}

    def rss_mib(self) -> float:
        return round(sum(_status_kib(pid, "VmRSS") for pid in self.worker_pids()) / 1024, 1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=120)


def _photos(count: int) -> list:
    """Flickr8k photos (PIL images), or synthetic ones without the shared data."""
    from PIL import Image

    folder = SHARED / "flickr8k" / "images_224"
    paths = sorted(folder.glob("*.jpg"))[:count] if folder.is_dir() else []
    if paths:
        return [Image.open(path).convert("RGB") for path in paths]
    import numpy as np

    rng = np.random.default_rng(0)
    return [Image.fromarray(np.clip(np.cumsum(rng.normal(0, 6, (224, 224, 3)), axis=1) + 128, 0, 255)
                            .astype("uint8")) for _ in range(count)]


def _jpeg(image, width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    image.resize((width, height), Image.Resampling.BICUBIC).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def mixed_photos(count: int, seed: int = 0) -> list[tuple[int, bytes]]:
    """``count`` JPEGs of widths log-uniform in 64..4,000 px (aspect 4:3, 1:1 or 3:4), made once up front."""
    rng = random.Random(seed)
    sources = _photos(count)
    made = []
    for index in range(count):
        width = round(math.exp(rng.uniform(math.log(64), math.log(4000))))
        height = round(width * rng.choice((0.75, 1.0, 4 / 3)))
        made.append((width, _jpeg(sources[index], width, height)))
    return made


def _png_header(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def bad_requests(photo: bytes) -> dict:
    """``{kind: (request keyword arguments for httpx, expected status, expected code)}``."""
    return {
        "text as .jpg": (dict(files={"image": ("notes.jpg", b"Shopping list: eggs, milk.\n" * 20, "image/jpeg")}),
                         400, "not_an_image"),
        "empty file": (dict(files={"image": ("empty.jpg", b"", "image/jpeg")}), 400, "empty_file"),
        "truncated JPEG": (dict(files={"image": ("cut.jpg", photo[: len(photo) // 2], "image/jpeg")}), 400,
                           "corrupt_image"),
        "100-megapixel header": (dict(files={"image": ("huge.png", _png_header(10_000, 10_000), "image/png")}), 413,
                                 "too_many_pixels"),
        "beam_size 0": (dict(files={"image": ("a.jpg", photo, "image/jpeg")}, data={"beam_size": "0"}), 422,
                        "invalid_option"),
        "num_captions over beam": (dict(files={"image": ("a.jpg", photo, "image/jpeg")},
                                        data={"beam_size": "2", "num_captions": "5"}), 422, "invalid_option"),
        "JSON body": (dict(json={"image": "a.jpg"}), 415, "unsupported_media_type"),
        "no image field": (dict(files={"photo": ("a.jpg", photo, "image/jpeg")}), 422, "missing_image"),
    }


def run_clients(url: str, plan, clients: int, on_done=None) -> list[dict]:
    """Send ``plan(index) -> (method, path, kwargs, check)`` for every index from ``clients`` keep-alive clients;
    ``check(response)`` says whether the answer is right. One record per request, in completion order."""
    records: list[dict] = []
    lock = threading.Lock()
    indices = iter(range(len(plan)))

    def client():
        with httpx.Client(timeout=600) as session:
            while True:
                with lock:
                    index = next(indices, None)
                if index is None:
                    return
                method, path, kwargs, check, kind = plan[index]
                started = time.perf_counter()
                try:
                    response = session.request(method, f"{url}{path}", **kwargs)
                    status = response.status_code
                    right = bool(check(response))
                except httpx.HTTPError as error:
                    status, right = f"{type(error).__name__}", False
                except ValueError:  # an answer that is not the JSON it should be
                    right = False
                finished = time.perf_counter()
                with lock:
                    records.append({"index": index, "kind": kind, "status": status, "right": right,
                                    "latency": finished - started, "finished": finished})
                    if on_done is not None:
                        on_done(len(records))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return records


def _latency_summary(records: list[dict]) -> dict:
    latencies = [record["latency"] * 1000 for record in records if record["right"]]
    wall = max(record["finished"] for record in records) - min(record["finished"] - record["latency"]
                                                               for record in records)
    return {"requests": len(records), "right": len(latencies), "requests_per_s": round(len(records) / wall, 2),
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p99_ms": round(_percentile(latencies, 0.99), 1) if latencies else None}


def _caption_check(expected_captions: int):
    def check(response) -> bool:
        return response.status_code == 200 and len(response.json()["captions"]) == expected_captions
    return check


def latency_phase(model: Path, requests: int) -> dict:
    photo = _jpeg(_photos(1)[0], 224, 224)
    caption = ("POST", "/caption", {"files": {"image": ("photo.jpg", photo, "image/jpeg")}, "data": {"beam_size": "3"}},
               _caption_check(1), "api")
    page = ("GET", "/", {}, lambda response: response.status_code == 200 and "<html" in response.text, "page")
    server = Server(model)
    try:
        first = run_clients(server.url, [caption], 1)[0]
        report = {"server_start_s": round(server.start_seconds, 1),
                  "first_request_after_ready_ms": round(first["latency"] * 1000, 1), "rows": []}
        for clients in (1, 8):
            for name, request in (("page", page), ("API", caption)):
                summary = _latency_summary(run_clients(server.url, [request] * requests, clients))
                report["rows"].append({"what": name, "clients": clients, **summary})
                print(f"latency  {name:<5} {clients} client(s): p50 {summary['p50_ms']} ms  p99 {summary['p99_ms']} "
                      f"ms  {summary['requests_per_s']} req/s", flush=True)
    finally:
        server.stop()
    return report


def workers_phase(model: Path, requests: int, clients: int = 8) -> dict:
    photos = [_jpeg(image, 224, 224) for image in _photos(16)]
    plan = [("POST", "/caption", {"files": {"image": ("photo.jpg", photos[index % len(photos)], "image/jpeg")},
                                  "data": {"beam_size": "3"}}, _caption_check(1), "api") for index in range(requests)]
    report = {"clients": clients, "requests": requests, "rows": []}
    for workers in (1, 2):
        server = Server(model, workers=workers)
        try:
            run_clients(server.url, plan[: 4 * clients], clients)  # every worker takes a few first
            summary = _latency_summary(run_clients(server.url, plan, clients))
            row = {"workers": workers, "server_start_s": round(server.start_seconds, 1), **summary,
                   **server.memory_mib()}
        finally:
            server.stop()
        report["rows"].append(row)
        print(f"workers {workers}: {row['requests_per_s']} req/s  p50 {row['p50_ms']} ms  RSS {row['rss_mib']} MiB  "
              f"PSS {row['pss_mib']} MiB", flush=True)
    one, two = (row["requests_per_s"] for row in report["rows"])
    report["throughput_ratio_2_to_1"] = round(two / one, 2)
    return report


def soak_plan(total: int, bad_fraction: float, seed: int = 0) -> list:
    rng = random.Random(seed)
    photos = mixed_photos(48, seed)
    bad = bad_requests(photos[0][1])
    kinds = sorted(bad)
    plan = []
    for _ in range(total):
        if rng.random() < bad_fraction:
            kind = rng.choice(kinds)
            kwargs, status, code = bad[kind]

            def check(response, status=status, code=code):
                return response.status_code == status and response.json().get("code") == code
            plan.append(("POST", "/caption", kwargs, check, kind))
            continue
        width, data = rng.choice(photos)
        beam = rng.randint(1, 5)
        captions = rng.randint(1, beam)
        plan.append(("POST", "/caption", {"files": {"image": (f"w{width}.jpg", data, "image/jpeg")},
                                          "data": {"beam_size": str(beam), "num_captions": str(captions)}},
                     _caption_check(captions), "photo"))
    return plan


def soak_phase(model: Path, requests: int, clients: int, bad_fraction: float, workers: int) -> dict:
    plan = soak_plan(requests, bad_fraction)
    server = Server(model, workers=workers)
    rss_samples = {0: server.rss_mib()}
    started = time.perf_counter()

    def on_done(count: int) -> None:
        if count % WINDOW == 0 or count == requests:
            rss_samples[count] = server.rss_mib()
            elapsed = time.perf_counter() - started
            print(f"soak {count:>6} requests  {elapsed:7.0f} s  RSS {rss_samples[count]} MiB", flush=True)

    try:
        records = run_clients(server.url, plan, clients, on_done)
    finally:
        server.stop()
    seconds = time.perf_counter() - started
    windows = []
    for start in range(0, len(records), WINDOW):
        window = records[start : start + WINDOW]
        good = [record for record in window if record["kind"] == "photo"]
        summary = _latency_summary(good) if good else {}
        first_start = min(record["finished"] - record["latency"] for record in window)
        windows.append({
            "requests": f"{start + 1}-{start + len(window)}",
            "requests_per_s": round(len(window) / (window[-1]["finished"] - first_start), 2),
            "p50_ms": summary.get("p50_ms"), "p99_ms": summary.get("p99_ms"),
            "wrong": sum(not record["right"] for record in window),
            "5xx": sum(isinstance(record["status"], int) and record["status"] >= 500 for record in window),
            "rss_mib": rss_samples.get(start + len(window)),
        })
    reference = min(2000, max(WINDOW, (requests // 10) // WINDOW * WINDOW))
    end_rss, reference_rss = rss_samples[max(rss_samples)], rss_samples.get(reference, rss_samples[min(rss_samples)])
    wrong = [record for record in records if not record["right"]]
    by_kind = {}
    for record in records:
        by_kind.setdefault(record["kind"], {"count": 0, "wrong": 0})
        by_kind[record["kind"]]["count"] += 1
        by_kind[record["kind"]]["wrong"] += not record["right"]
    return {
        "requests": requests, "clients": clients, "workers": workers, "bad_fraction": bad_fraction,
        "seconds": round(seconds, 1), "requests_per_s": round(requests / seconds, 2),
        "estimated_seconds_for_20000": round(seconds / requests * 20000),
        "server_start_s": round(server.start_seconds, 1), "windows": windows, "rss_mib": rss_samples,
        "by_kind": by_kind, "wrong_examples": [f"{record['kind']}: {record['status']}" for record in wrong[:10]],
        "targets": {
            "rss_end_over_rss_at_reference": round(end_rss / reference_rss, 4), "rss_reference_request": reference,
            "rss_target": 1.05,
            "server_errors_5xx": sum(window["5xx"] for window in windows),
            "p99_last_over_first": (round(windows[-1]["p99_ms"] / windows[0]["p99_ms"], 2)
                                    if len(windows) > 1 and windows[0]["p99_ms"] else None),
            "p99_target": 1.5,
            "wrong_answers": len(wrong),
        },
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phases", default="latency,workers,soak", help="comma-separated: latency, workers, soak")
    parser.add_argument("--requests", type=int, default=20000, help="soak requests (default 20,000)")
    parser.add_argument("--clients", type=int, default=16, help="soak clients (default 16)")
    parser.add_argument("--bad-fraction", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=1, help="worker processes of the soak's server")
    parser.add_argument("--latency-requests", type=int, default=200, help="requests per latency row")
    parser.add_argument("--worker-requests", type=int, default=400, help="requests per worker-count run")
    parser.add_argument("--model", type=Path, help="a captioner .keras file (default: the Flickr8k-sized model)")
    parser.add_argument("--output", type=Path, default=RESULTS / "serving_soak.json")
    parser.add_argument("--plot", type=Path, help="with the soak phase: a PNG of latency and memory over the requests")
    args = parser.parse_args(argv)
    phases = [phase.strip() for phase in args.phases.split(",") if phase.strip()]
    unknown = set(phases) - {"latency", "workers", "soak"}
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")

    scratch = Path(tempfile.mkdtemp(prefix="serving_soak_"))
    model, model_kind = (args.model, str(args.model)) if args.model else flickr_sized_model(scratch)
    report = {"benchmark": "serving_soak", "model": model_kind, "machine": _machine()}
    if args.output.is_file():  # phases run separately add up in one file
        report = {**json.loads(args.output.read_text()), **report}
    if "latency" in phases:
        report["latency"] = latency_phase(model, args.latency_requests)
    if "workers" in phases:
        report["workers"] = workers_phase(model, args.worker_requests)
    if "soak" in phases:
        report["soak"] = soak_phase(model, args.requests, args.clients, args.bad_fraction, args.workers)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    if "soak" in phases and args.plot:
        plot_soak(report["soak"], args.plot)

    print(f"\n{model_kind}; {report['machine']}")
    if "latency" in phases:
        latency = report["latency"]
        print(f"\nfirst request after ready: {latency['first_request_after_ready_ms']} ms")
        print(f"{'what':<6}{'clients':>8}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>8}")
        for row in latency["rows"]:
            print(f"{row['what']:<6}{row['clients']:>8}{row['p50_ms']:>10}{row['p99_ms']:>10}{row['requests_per_s']:>8}")
    if "workers" in phases:
        print(f"\n{'workers':<8}{'req/s':>8}{'p50 ms':>10}{'RSS MiB per worker':>22}{'PSS MiB per worker':>22}")
        for row in report["workers"]["rows"]:
            print(f"{row['workers']:<8}{row['requests_per_s']:>8}{row['p50_ms']:>10}{str(row['rss_mib']):>22}"
                  f"{str(row['pss_mib']):>22}")
        print(f"2 workers / 1: {report['workers']['throughput_ratio_2_to_1']}x")
    if "soak" in phases:
        soak = report["soak"]
        print(f"\n{'requests':<14}{'req/s':>8}{'p50 ms':>10}{'p99 ms':>10}{'wrong':>7}{'5xx':>5}{'RSS MiB':>10}")
        for window in soak["windows"]:
            print(f"{window['requests']:<14}{window['requests_per_s']:>8}{window['p50_ms']:>10}{window['p99_ms']:>10}"
                  f"{window['wrong']:>7}{window['5xx']:>5}{window['rss_mib'] or '':>10}")
        targets = soak["targets"]
        print(f"{soak['requests']} requests in {soak['seconds']} s ({soak['requests_per_s']} req/s; 20,000 would take "
              f"about {soak['estimated_seconds_for_20000'] / 60:.0f} min); RSS end / at request "
              f"{targets['rss_reference_request']}: {targets['rss_end_over_rss_at_reference']} (target <= 1.05); "
              f"5xx: {targets['server_errors_5xx']}; p99 last / first window: {targets['p99_last_over_first']} "
              f"(target <= 1.5); wrong answers: {targets['wrong_answers']}")
    print(f"wrote {args.output}")
    return 0


def plot_soak(soak: dict, path: Path) -> None:
    """Latency (median and p99) and the server's RSS per window of requests, one above the other."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ends = [int(window["requests"].split("-")[1]) for window in soak["windows"]]
    figure, (latency, memory) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    latency.plot(ends, [w["p50_ms"] for w in soak["windows"]], "o-", label="median")
    latency.plot(ends, [w["p99_ms"] for w in soak["windows"]], "s-", label="p99")
    latency.set_ylabel("latency per window (ms)")
    latency.set_ylim(bottom=0)
    latency.legend()
    latency.set_title(f"captioner serve: {soak['requests']:,} requests, {soak['clients']} clients, "
                      f"{soak['bad_fraction']:.0%} bad")
    rss = [w["rss_mib"] for w in soak["windows"]]
    memory.plot(ends, rss, "o-", color="tab:green")
    memory.set_ylabel("server RSS (MiB)")
    memory.set_ylim(0, 1.15 * max(value or 0 for value in rss) + 1)
    memory.set_xlabel("requests answered")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


if __name__ == "__main__":
    sys.exit(main())
