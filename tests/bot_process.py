"""`devexbot serve` as a real process on a loopback port, for crash and multi-replica tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_serve(cwd: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Start `devexbot serve` with `env` over a clean environment; wait for /healthz."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEVEXBOT_CONFIG")}
    environ.update(env, PORT=str(port))
    proc = subprocess.Popen([sys.executable, "-m", "devexbot", "serve"], cwd=cwd,
                            env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "devexbot serve exited while starting"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail("devexbot serve did not answer /healthz within 30 s")
