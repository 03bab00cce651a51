"""The page's latency and its behaviour under load: `painterly-vae serve` in its own process.

    python bench/serve.py [--quick] [--artists 6] [--size 256]

Builds a run as bench/attribute.py does (`--artists` encoders at `--size` px), starts
`painterly-vae serve` on a free port of 127.0.0.1, and measures, side by side in one run:
the ranking alone (`attribute_files` on one painting, warm, in this process) and the page's
whole answer for the same painting (POST /api/attribute: upload, checks, ranking, evidence,
every encoder's crossing, the map point, JSON with the pictures inlined), as the ratio of
their medians. Then a bounded load test: a few hundred uploads, four at a time, with p50 and
p95 latency, errors, and the server's resident memory before and after. Targets on the 2-core
CPU: the ranking under 1 s, the whole answer under 3 s, no error, no memory growth.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from attribute import build_run, paintings  # noqa: E402

from painterly_vae.inference.answers import attribute_files  # noqa: E402
from painterly_vae.inference.trained_run import open_run  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def resident_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024


def start_server(run_dir: Path, data: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "painterly_vae", "serve", "--run", str(run_dir), "--data", str(data),
                               "--port", str(port),
                               "--device", "cpu", "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/run", timeout=5).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start: {server.communicate()[1][-2000:]}")
        time.sleep(0.2)


def upload(url: str, path: Path) -> float:
    start = time.perf_counter()
    response = httpx.post(f"{url}/api/attribute", files={"painting": (path.name, path.read_bytes())}, timeout=120)
    response.raise_for_status()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and requests")
    parser.add_argument("--artists", type=int, default=6)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    repeats, requests = (5, 60) if args.quick else (15, 300)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        run_dir = build_run(root, args.artists, args.size)
        files = paintings(root, 8)
        run = open_run(run_dir, torch.device("cpu"))
        port = free_port()
        server = start_server(run_dir, root / "data", port)
        url = f"http://127.0.0.1:{port}"
        try:
            attribute_files(run, files[:1])
            upload(url, files[0])  # both warm
            ranking, whole = [], []
            for _ in range(repeats):
                start = time.perf_counter()
                attribute_files(run, files[:1])
                ranking.append(time.perf_counter() - start)
                whole.append(upload(url, files[0]))
            before = resident_mb(server.pid)

            def one(index: int) -> float | None:
                try:
                    return upload(url, files[index % len(files)])
                except httpx.HTTPError:
                    return None

            with ThreadPoolExecutor(4) as pool:
                latencies = list(pool.map(one, range(requests)))
            after = resident_mb(server.pid)
            errors = sum(1 for latency in latencies if latency is None)
            answered = sorted(latency for latency in latencies if latency is not None)
        finally:
            server.terminate()
            server.wait(timeout=60)
    r, w = statistics.median(ranking), statistics.median(whole)
    p50, p95 = answered[len(answered) // 2], answered[min(len(answered) - 1, int(len(answered) * 0.95))]
    print(f"{args.artists} painters at {args.size} px, warm, CPU ({torch.get_num_threads()} threads)")
    print(f"ranking alone (attribute_files, 1 painting): median {r * 1000:.0f} ms over {repeats}")
    print(f"the page's whole answer (POST /api/attribute): median {w * 1000:.0f} ms over {repeats}; "
          f"{w / r:.2f}x the ranking alone")
    print(f"load: {requests} uploads, 4 at a time: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, {errors} errors; "
          f"server memory {before:.0f} MB before, {after:.0f} MB after")
    print(f"serve ranking_ms={r * 1000:.0f} answer_ms={w * 1000:.0f} ratio={w / r:.2f} p50_ms={p50 * 1000:.0f} "
          f"p95_ms={p95 * 1000:.0f} errors={errors} rss_before_mb={before:.0f} rss_after_mb={after:.0f}")


if __name__ == "__main__":
    main()
