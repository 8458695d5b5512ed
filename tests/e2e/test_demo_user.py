"""The demo user exists in `devexbot demo` only: a real `serve` never acts as it, whatever
a session cookie claims, even one signed with the bot's own session secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from devexbot.demo import DemoSecrets, play
from devexbot.demo.scenario import MERGE
from devexbot.web.access import SESSION_COOKIE
from tests.demo_run import APP, Demo
from tests.e2e.serve_process import start_serve

SESSION_SECRET = "a-session-secret-of-this-bot-only"
CONFIG = """\
environments: [test, production]
approvals:
  test: {approvers: ["*"]}
"""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _forged(claims: dict) -> str:
    """A session cookie as the bot signs them, with its own secret: only the claims lie."""
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(SESSION_SECRET.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def test_a_real_serve_refuses_a_forged_demo_session(tmp_path: Path) -> None:
    keys = DemoSecrets.generate()
    (tmp_path / "devexbot.yaml").write_text(CONFIG)
    proc, url = start_serve(tmp_path, {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "DEVEXBOT_CONFIG": str(tmp_path / "devexbot.yaml"),
        "GITHUB_WEBHOOK_SECRET": keys.github, "JENKINS_WEBHOOK_TOKEN": keys.jenkins,
        "DEPLOY_WEBHOOK_SECRET": keys.deploy, "DEVEXBOT_SESSION_SECRET": SESSION_SECRET})
    try:
        play(url, keys, speed=400, until=66, say=lambda line: None)  # test waits for approval
        demo = Demo(url)
        approve = demo.buttons(APP, MERGE)["Approve test"]
        demo_session = _forged({"via": "demo", "name": "demo-ana", "sub": "U0DEMOANA",
                                "exp": int(time.time()) + 600})
        on_the_machine = httpx.Client(base_url=url, timeout=10,
                                      cookies={SESSION_COOKIE: demo_session})
        page = on_the_machine.get(f"/cards/{APP}/{MERGE}")
        assert page.status_code == 200
        assert "demo user" not in page.text and "demo-ana" not in page.text
        pressed = on_the_machine.post(approve, headers={"Origin": url})
        assert pressed.status_code == 303
        notice = parse_qs(urlsplit(pressed.headers["location"]).query)["notice"][0]
        assert notice.startswith("Sign in with Slack to act on cards")

        host = f"devexbot.test:{urlsplit(url).port}"  # a name that is not the machine's
        elsewhere = httpx.post(f"{url}{approve}", timeout=10, cookies={
            SESSION_COOKIE: demo_session}, headers={"Host": host, "Origin": f"http://{host}"})
        assert elsewhere.status_code == 403
        assert "Sign in with Slack" in elsewhere.json()["detail"]
        assert on_the_machine.get("/api/audit").json()["audit"] == []  # nobody acted
        card = on_the_machine.get(f"/api/cards/{APP}/{MERGE}").json()
        assert card["deployments"][0]["approval"]["state"] == "waiting"
    finally:
        proc.terminate()
        proc.wait(timeout=15)
