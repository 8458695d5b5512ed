"""`devexbot demo` as a person runs it: a real process that prints its URL and plays its
story until stopped, on a throw-away database."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx

from devexbot.demo.scenario import MERGE
from tests.e2e.serve_process import free_port, process_env
from tests.slack_app import wait_for
from tests.test_web_demo import _cards


def test_devexbot_demo_prints_its_url_and_shows_cards(tmp_path: Path) -> None:
    port = free_port()
    env = process_env(drop=("DATABASE_URL", "DEVEXBOT_", "SLACK_", "GITHUB_"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "devexbot", "demo", "--port", str(port), "--speed", "30"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert f"open http://127.0.0.1:{port}/" in first, first
        base = f"http://127.0.0.1:{port}"

        def deployed() -> dict | None:
            try:
                merge = _cards(base).get(MERGE)
            except httpx.TransportError:
                return None
            done = merge and merge["deployments"] and \
                merge["deployments"][-1]["status"] == "success" and merge["overall"] == "success"
            return merge if done else None

        # The story's end: the merge commit green and deployed.
        wait_for(deployed, timeout=30, what="the merge commit deployed")
        page = httpx.get(f"{base}/", timeout=10)
        assert page.status_code == 200 and "octo-org/octo-app · main" in page.text
    finally:
        proc.terminate()
        assert proc.wait(timeout=15) == 0
    assert not list(tmp_path.iterdir())  # the demo's database is thrown away


def test_demo_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "devexbot", "demo", "--port", str(port)],
                                cwd=tmp_path, env=process_env(), capture_output=True, text=True,
                                timeout=30)
    assert result.returncode == 2
    assert result.stderr.startswith(f"devexbot: error: cannot listen on 127.0.0.1:{port}")
