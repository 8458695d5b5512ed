"""POST /webhooks/github against the floor: a bare endpoint in the same server stack.

The real app runs under uvicorn in its own process (one worker, the product's server
settings) with one extra route, `/bench/floor`, added here only: it reads the body and
answers 202. A load generator in another process sends pre-signed real payloads over
keep-alive loopback connections, at a fixed rate (200 req/s) and at the maximum rate,
alternating floor and ingest runs. Latency is measured from each request's scheduled
send time (no coordinated omission at the fixed rate).

    python bench/ingest_floor.py --database sqlite
    python bench/ingest_floor.py --database postgres   # uses DEVEXBOT_TEST_POSTGRES_URL
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret"
FLOOR, INGEST = "/bench/floor", "/webhooks/github"


# ---- the server process ------------------------------------------------------------------

def serve(port: int, database_url: str, config: Path) -> None:
    from devexbot.app import create_app
    from devexbot.http.serving import listening_socket
    from devexbot.http.serving import serve as serve_app
    from devexbot.settings import load_settings
    from devexbot.store.migrate import upgrade
    from devexbot.wiring import build_services

    settings = load_settings(_env_file=None, database_url=database_url,
                             github_webhook_secret=SECRET, devexbot_config=config)
    services = build_services(settings)
    upgrade(services.db.engine)
    app = create_app(settings, services=services)

    @app.post(FLOOR)
    async def floor(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"status": "stored"}, status_code=202)

    serve_app(app, sock=listening_socket("127.0.0.1", port), log_level="warning")


# ---- the load generator process ----------------------------------------------------------

def requests_for(path: str, n: int, port: int, tag: str) -> list[bytes]:
    """n signed check_run deliveries over 200 commits, as raw HTTP/1.1 requests."""
    from tests.github_sender import github_headers, load_fixture

    template = load_fixture("check_run.completed")
    out = []
    for i in range(n):
        payload = copy.deepcopy(template)
        payload["check_run"]["head_sha"] = f"{tag}{i % 200:036x}"
        payload["check_run"]["name"] = f"check-{i % 7}"
        payload["check_run"]["id"] = i
        body = json.dumps(payload).encode()
        headers = github_headers("check_run", body, secret=SECRET, delivery_id=str(uuid.uuid4()))
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        out.append((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}"
                    f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
    return out


async def _roundtrip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines
                  if line.lower().startswith("content-length:"))
    await reader.readexactly(length)
    return status


async def load(port: int, path: str, rate: float | None, duration: float, connections: int,
               tag: str) -> dict[str, Any]:
    n = int(rate * duration) if rate else int(duration * 4000)
    queue = requests_for(path, n, port, tag)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    start = time.perf_counter() + 0.2
    next_index = 0
    stop_at = start + duration

    async def worker() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while next_index < n:
                i = next_index
                next_index += 1
                due = start + i / rate if rate else time.perf_counter()
                if rate:
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                elif due > stop_at:
                    return
                status = await _roundtrip(reader, writer, queue[i])
                latencies.append(time.perf_counter() - max(due, start))
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    return {"path": path, "rate": rate, "count": len(latencies), "statuses": statuses,
            "rps": len(latencies) / elapsed, "p50_ms": q[49] * 1e3, "p99_ms": q[98] * 1e3}


# ---- the orchestrator --------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def database_for(kind: str, tmp: Path) -> tuple[str, Any]:
    if kind == "sqlite":
        return f"sqlite:///{tmp}/bench.db", None
    from sqlalchemy import create_engine, text

    from devexbot.settings import normalise_database_url

    base = normalise_database_url(os.environ.get(
        "DEVEXBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", drop


def _wait_healthy(port: int, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server process exited while starting")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the server did not start within 30 s")


def _run_load(port: int, path: str, rate: float | None, duration: float, connections: int,
              tag: str) -> dict[str, Any]:
    args = [sys.executable, __file__, "_load", "--port", str(port), "--path", path,
            "--duration", str(duration), "--connections", str(connections), "--tag", tag]
    if rate:
        args += ["--rate", str(rate)]
    out = subprocess.run(args, check=True, capture_output=True, text=True, timeout=600)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main(database: str, rounds: int, duration: float) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url, drop = database_for(database, tmp)
        port = _free_port()
        server = subprocess.Popen([sys.executable, __file__, "_serve", "--port", str(port),
                                   "--database-url", url, "--config", str(tmp / "none.yaml")])
        try:
            _wait_healthy(port, server)
            results: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for r in range(rounds):
                for mode, rate, conns in (("200/s", 200.0, 16), ("max", None, 16)):
                    for path in (FLOOR, INGEST):  # alternating, so drift hits both alike
                        tag = f"{r:02x}{len(results):02x}"
                        res = _run_load(port, path, rate, duration, conns, tag)
                        results.setdefault((mode, path), []).append(res)
                        bad = {s: c for s, c in res["statuses"].items() if s != "202"}
                        print(f"round {r + 1} {mode:5s} {path:17s} {res['rps']:7.0f} req/s  "
                              f"p50 {res['p50_ms']:6.2f} ms  p99 {res['p99_ms']:6.2f} ms"
                              + (f"  non-202: {bad}" if bad else ""), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=15)
            if drop is not None:
                drop()
    print(f"\nsummary ({database}, {rounds} alternating rounds of {duration:.0f} s each, "
          f"median of rounds):")
    for mode in ("200/s", "max"):
        f = {k: statistics.median(x[k] for x in results[(mode, FLOOR)])
             for k in ("rps", "p50_ms", "p99_ms")}
        g = {k: statistics.median(x[k] for x in results[(mode, INGEST)])
             for k in ("rps", "p50_ms", "p99_ms")}
        print(f"  {mode:5s} floor  {f['rps']:7.0f} req/s p50 {f['p50_ms']:6.2f} ms "
              f"p99 {f['p99_ms']:6.2f} ms")
        print(f"  {mode:5s} ingest {g['rps']:7.0f} req/s p50 {g['p50_ms']:6.2f} ms "
              f"p99 {g['p99_ms']:6.2f} ms")
        print(f"  {mode:5s} ingest/floor throughput ratio {g['rps'] / f['rps']:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    s = sub.add_parser("_serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--database-url", required=True)
    s.add_argument("--config", type=Path, required=True)
    ld = sub.add_parser("_load")
    ld.add_argument("--port", type=int, required=True)
    ld.add_argument("--path", required=True)
    ld.add_argument("--rate", type=float)
    ld.add_argument("--duration", type=float, required=True)
    ld.add_argument("--connections", type=int, default=16)
    ld.add_argument("--tag", default="00")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    ns = parser.parse_args()
    if ns.command == "_serve":
        serve(ns.port, ns.database_url, ns.config)
    elif ns.command == "_load":
        print(json.dumps(asyncio.run(load(ns.port, ns.path, ns.rate, ns.duration,
                                          ns.connections, ns.tag))))
    else:
        main(ns.database, ns.rounds, ns.duration)
