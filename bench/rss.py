"""Memory over a long run: the server's RSS every 10k deliveries over 100k.

The real app runs under uvicorn in its own process (as in ingest_floor.py); a load generator
in another process sends signed check_run deliveries at a fixed rate, 10k per step, each
step to 200 new commits (so cards keep being made, as in real life). After each step the
server's resident memory (VmRSS, now, not the peak) is read from /proc. Flat means the
growth after warm-up (the first step) is noise, not a slope.

    python bench/rss.py [--database sqlite|postgres] [--steps 10] [--per-step 10000] [--rate 400]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest_floor import INGEST, _free_port, _run_load, _wait_healthy, database_for  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main(database: str, steps: int, per_step: int, rate: float) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url, drop = database_for(database, tmp)
        port = _free_port()
        server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "ingest_floor.py"),
                                   "_serve", "--port", str(port), "--database-url", url,
                                   "--config", str(tmp / "none.yaml")])
        try:
            _wait_healthy(port, server)
            series = [(0, rss_mb(server.pid))]
            print(f"start: RSS {series[0][1]:.1f} MB", flush=True)
            sent, started = 0, time.monotonic()
            for step in range(steps):
                res = _run_load(port, INGEST, rate, per_step / rate, 16, f"{step + 1:04x}")
                sent += res["count"]
                bad = {s: c for s, c in res["statuses"].items() if s != "202"}
                series.append((sent, rss_mb(server.pid)))
                print(f"{sent:7d} deliveries: RSS {series[-1][1]:6.1f} MB  "
                      f"({res['rps']:.0f} req/s, p99 {res['p99_ms']:.1f} ms"
                      + (f", non-202: {bad}" if bad else "") + ")", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=15)
            if drop is not None:
                drop()
    warm = series[1:]  # after the first step: imports, caches and pools are in place
    xs, ys = [n / 10_000 for n, _ in warm], [mb for _, mb in warm]
    slope = statistics.linear_regression(xs, ys).slope if len(warm) > 2 else float("nan")
    print(f"\n{database}: {sent} deliveries in {time.monotonic() - started:.0f} s; RSS "
          f"{series[0][1]:.1f} MB at start, {warm[0][1]:.1f} MB after the first step, "
          f"{warm[-1][1]:.1f} MB at the end; slope after warm-up {slope:+.2f} MB per 10k "
          f"deliveries (min {min(ys):.1f}, max {max(ys):.1f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--per-step", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=400.0)
    ns = parser.parse_args()
    main(ns.database, ns.steps, ns.per_step, ns.rate)
