"""`devexbot` as real processes on loopback ports, running this checkout's code (whatever
an installed copy says), for crash, multi-replica and command-line tests."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.slack_app import wait_for

REPO_ROOT = Path(__file__).resolve().parents[2]


def process_env(*, drop: tuple[str, ...] = ("DATABASE_URL", "DEVEXBOT_CONFIG"),
                **env: str) -> dict[str, str]:
    """This environment without the variables starting with `drop`, plus `env`, importing
    the code of this checkout first."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    path = environ.get("PYTHONPATH")
    environ["PYTHONPATH"] = f"{REPO_ROOT}{os.pathsep}{path}" if path else str(REPO_ROOT)
    environ.update(env)
    return environ


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_serve(cwd: Path, env: dict[str, str], *, open_files: int | None = None
                ) -> tuple[subprocess.Popen[bytes], str]:
    """Start `devexbot serve` with `env` over a clean environment; wait for /healthz. With
    `open_files`, the process may open no more files than that (as `ulimit -Hn` sets)."""
    port = free_port()

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    proc = subprocess.Popen([sys.executable, "-m", "devexbot", "serve"], cwd=cwd,
                            env=process_env(**env, PORT=str(port)),
                            preexec_fn=limit_files if open_files is not None else None,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert proc.poll() is None, "devexbot serve exited while starting"
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(healthy, timeout=30, what="devexbot serve to answer /healthz")
    except AssertionError:
        proc.kill()
        pytest.fail("devexbot serve did not answer /healthz within 30 s")
    return proc, base
