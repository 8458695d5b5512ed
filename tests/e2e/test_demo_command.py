"""`devexbot demo` as a person runs it: a real process that prints its URL and plays its
story until stopped, on a throw-away database."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx

from devexbot.demo.scenario import FEATURE, MERGE
from tests.demo_run import APP, demo_process
from tests.e2e.serve_process import free_port, process_env
from tests.slack_app import wait_for
from tests.test_web_demo import _cards


def test_devexbot_demo_prints_its_url_and_shows_cards(tmp_path: Path) -> None:
    port = free_port()
    env = process_env(drop=("DATABASE_URL", "DEVEXBOT_", "SLACK_", "GITHUB_"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "devexbot", "demo", "--port", str(port), "--speed", "30",
         "--wait", "0"],
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


def test_the_visitor_can_press_every_button_of_the_story(tmp_path: Path) -> None:
    """No dead ends: on the machine the visitor acts as the demo user, and Retry, Merge and
    Approve work on the demo's own GitHub (the story waits for the clicks)."""
    with demo_process(tmp_path, "--speed", "5") as demo:
        notices = {"Retry CI": demo.click(APP, FEATURE, "Retry CI")}
        # Merge once the re-run passed and ben approved (while it runs, Merge says not yet).
        wait_for(lambda: (card := demo.card(APP, FEATURE)) and card["overall"] == "success"
                 and card["pull_request"]["review"] == "approved", timeout=40,
                 what="PR #12 green and approved")
        notices["Merge"] = demo.click(APP, FEATURE, "Merge")
        notices["Approve test"] = demo.click(APP, MERGE, "Approve test", timeout=40)
        assert notices == {
            "Retry CI": "Re-running the failed jobs of CI (attempt 2); the card updates when "
                        "they report.",
            "Merge": f"Merged #12 into main (merge, {MERGE[:7]}).",
            "Approve test": "Approved test (1 of 1): approved on GitHub (run 30434100).",
        }
        deployed = wait_for(lambda: (card := demo.card(APP, MERGE)) and [
            (d["environment"], d["status"]) for d in card["deployments"]] == [
            ("test", "success"), ("production", "success")] and card, timeout=40,
            what="test and production deployed")
        assert deployed["deployments"][0]["approval"]["state"] == "approved"
        assert demo.card(APP, FEATURE)["pull_request"]["state"] == "merged"
        said = "\n".join(demo.lines)
        assert "you re-ran CI's failed jobs, through the bot" in said
        assert "you merged PR #12, through the bot" in said
        assert "you approved test, through the bot" in said
        audit = httpx.get(f"{demo.url}/api/audit", timeout=10).json()["audit"]
        assert {(e["action"], e["result"], e["slack_user"], e["github_login"])
                for e in audit} == {(f"card.{a}", "ok", "U0DEMOANA", "demo-ana")
                                    for a in ("retry", "merge", "approve")}


def test_a_slack_channel_needs_its_id_and_a_bot_token(tmp_path: Path) -> None:
    env = process_env(drop=("DATABASE_URL", "DEVEXBOT_", "SLACK_"))
    for args, error in [
        (["--slack-channel", "C0123ABCD"], "--slack-channel needs SLACK_BOT_TOKEN"),
        (["--slack-channel", "#deploys"], "--slack-channel takes a channel id, C…"),
    ]:
        result = subprocess.run([sys.executable, "-m", "devexbot", "demo", *args], cwd=tmp_path,
                                env=env, capture_output=True, text=True, timeout=30)
        assert result.returncode == 2
        assert result.stderr.startswith(f"devexbot: error: {error}"), result.stderr
        assert result.stderr.count("\n") == 1
