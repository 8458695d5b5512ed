"""One `devexbot serve` per SQLite file: a second is refused in one line, and a restart
after a SIGKILL is not. Real processes on loopback."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.serve_process import free_port, process_env, start_serve
from tests.e2e.test_cli import run
from tests.slack_app import wait_for


def answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def second_serve(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Start another `devexbot serve`; its exit, or a failure if it serves instead."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "devexbot", "serve"], cwd=cwd,
                            env=process_env(**env, PORT=str(port)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: proc.poll() is not None or answers(f"http://127.0.0.1:{port}"),
                 timeout=30, what="the second devexbot serve to exit or answer")
        assert proc.poll() is not None, "the second devexbot serve started on the same file"
        out, err = proc.communicate(timeout=10)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_a_second_serve_on_one_sqlite_file_is_refused_and_a_restart_after_sigkill_is_not(
    tmp_path: Path
) -> None:
    database = tmp_path.resolve() / "devexbot.db"
    other = tmp_path / "elsewhere"
    other.mkdir()
    first, base = start_serve(tmp_path, {"DATABASE_URL": f"sqlite:///{database}"})
    try:
        # The same file, named from another directory.
        refused = second_serve(other, DATABASE_URL="sqlite:///../devexbot.db")
        assert refused.returncode == 2, refused
        assert refused.stderr.strip() == (
            f"devexbot: error: another devexbot is already serving {database} "
            f"(pid {first.pid} on {socket.gethostname()}); SQLite serves one process — use "
            "PostgreSQL (DATABASE_URL=postgresql://…) to run several replicas")
        assert answers(base)
        # One-shot commands run beside it.
        jobs = run("jobs", cwd=tmp_path, DATABASE_URL=f"sqlite:///{database}")
        assert jobs.returncode == 0, jobs.stderr

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        restarted, base = start_serve(other, {"DATABASE_URL": "sqlite:///../devexbot.db"})
        try:
            assert answers(base)
        finally:
            restarted.terminate()
            restarted.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=10)
