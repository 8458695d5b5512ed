"""The demo for tests: `devexbot demo` as a real process, or the same parts in this process;
what it prints, its cards' buttons, and clicks on them as the web page posts them."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from devexbot.app import create_app
from devexbot.demo import DemoSecrets, play
from devexbot.demo.bot import DEMO_USER, demo_config, demo_settings
from devexbot.demo.world_http import DemoServices
from devexbot.http.serving import ServerThread
from devexbot.wiring import build_services
from tests.db_template import migrate
from tests.e2e.serve_process import free_port, process_env
from tests.slack_app import wait_for

APP = "octo-org/octo-app"
API = "octo-org/octo-api"
_FORM = re.compile(r'<form method="post" action="([^"]+)"[^>]*>\s*(?:<input[^>]*>\s*)?'
                   r'<button[^>]*>([^<]+)</button>')


@dataclass
class Demo:
    url: str
    lines: list[str] = field(default_factory=list)

    def said(self, text: str, timeout: float = 30.0) -> str:
        """The first line the demo printed with `text` in it (waiting for it)."""
        return str(wait_for(lambda: next((line for line in list(self.lines) if text in line),
                                         None), timeout=timeout, what=f"the demo to say {text!r}"))

    def buttons(self, repo: str, sha: str) -> dict[str, str]:
        """The card page's buttons: label to the URL its form posts to."""
        page = httpx.get(f"{self.url}/cards/{repo}/{sha}", timeout=10).text
        return {label: html.unescape(action) for action, label in _FORM.findall(page)}

    def click(self, repo: str, sha: str, label: str, *, timeout: float = 30.0,
              reason: str | None = None) -> str:
        """Press the card's button once it shows; the notice the page comes back with, or
        why there was nothing to press."""
        try:
            action = wait_for(lambda: self.buttons(repo, sha).get(label), timeout=timeout,
                              what=f"{label} on {repo}@{sha[:7]}")
        except AssertionError:
            return f"no {label!r} button (it has {sorted(self.buttons(repo, sha))})"
        answer = httpx.post(f"{self.url}{action}", headers={"Origin": self.url}, timeout=30,
                            data={"reason": reason} if reason else None)
        assert answer.status_code == 303, answer.text
        return parse_qs(urlsplit(answer.headers["location"]).query).get("notice", [""])[0]

    def card(self, repo: str, sha: str) -> dict:
        answer = httpx.get(f"{self.url}/api/cards/{repo}/{sha}", timeout=10)
        return answer.json() if answer.status_code == 200 else {}


@contextmanager
def demo_process(cwd: Path, *args: str, env: dict[str, str] | None = None
                 ) -> Iterator[Demo]:
    """`devexbot demo` with `args` on a free port; stopped (and checked to end well) after."""
    port = free_port()
    environ = process_env(drop=("DATABASE_URL", "DEVEXBOT_", "SLACK_", "GITHUB_", "JENKINS_",
                                "JIRA_"), **(env or {}))
    proc = subprocess.Popen([sys.executable, "-m", "devexbot", "demo", "--port", str(port),
                             *args], cwd=cwd, env=environ, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    demo = Demo(f"http://127.0.0.1:{port}")

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            demo.lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        demo.said("devexbot demo: open")
        wait_for(lambda: _up(demo.url), timeout=30, what="the demo to answer")
        yield demo
    finally:
        proc.terminate()
        code = proc.wait(timeout=15)
        reader.join(5)
    assert code == 0, "\n".join(demo.lines)


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def demo_in_process(folder: Path, *, speed: float, patience: float) -> Iterator[Demo]:
    """The demo's parts as `devexbot demo` wires them, in this process."""
    port = free_port()
    demo = Demo(f"http://127.0.0.1:{port}")
    keys = DemoSecrets.generate()
    with DemoServices(bot_url=demo.url, keys=keys, speed=speed) as services:
        settings = demo_settings(folder, keys, services)
        bot = build_services(settings, config=demo_config(), demo_user=DEMO_USER)
        migrate(bot.db.engine)
        stop = threading.Event()
        with ServerThread(create_app(settings, services=bot), port=port):
            player = threading.Thread(target=play, args=(demo.url, keys), kwargs={
                "speed": speed, "world": services.world, "patience": patience,
                "stop": stop, "say": demo.lines.append}, daemon=True)
            player.start()
            try:
                yield demo
            finally:
                stop.set()
                player.join(10)
