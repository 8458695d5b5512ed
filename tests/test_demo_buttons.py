"""The demo's buttons in one process, as `devexbot demo` wires them: the visitor on the
machine acts as the demo user, on the demo's own GitHub and Jenkins (`tests/e2e/
test_demo_command.py` presses Retry, Merge and Approve in a real `devexbot demo`)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from devexbot.demo.scenario import API_COMMIT, FEATURE, MERGE
from tests.demo_run import API, APP, demo_in_process
from tests.slack_app import wait_for

pytestmark = pytest.mark.sqlite_only

SPEED = 20  # the story in under 5 s, less the time it waits for the clicks
PATIENCE = 60


def test_the_page_says_who_the_visitor_acts_as(tmp_path: Path) -> None:
    with demo_in_process(tmp_path, speed=SPEED, patience=PATIENCE) as demo:
        page = httpx.get(f"{demo.url}/", timeout=10).text
        assert "You are acting as the demo user '<b>demo-ana</b>' — this is the demo" in page
        assert "Sign out" not in page


def test_rejecting_test_stops_the_story_before_it_deploys(tmp_path: Path) -> None:
    with demo_in_process(tmp_path, speed=SPEED, patience=PATIENCE) as demo:
        demo.click(APP, FEATURE, "Retry CI")
        demo.said("your turn: click Merge")
        demo.click(APP, FEATURE, "Merge")
        demo.said("your turn: click Approve (or Reject) for test")
        notice = demo.click(APP, MERGE, "Reject test", reason="QA is busy this week")
        assert notice == ("Rejected test: rejected on GitHub (run 30434100). Reason recorded: "
                          "QA is busy this week")
        card = wait_for(lambda: (found := demo.card(APP, MERGE)) and
                        found["overall"] == "failure" and found, timeout=30,
                        what="the Deploy run failing")
    [test] = card["deployments"]  # production never came
    assert (test["environment"], test["status"]) == ("test", "failure")
    assert test["approval"]["state"] == "rejected"
    assert test["approval"]["comment"] == "QA is busy this week"
    assert card["overall"] == "failure"
    assert any("you rejected test, through the bot" in line for line in demo.lines)


def test_retry_re_runs_the_broken_jenkins_build(tmp_path: Path) -> None:
    with demo_in_process(tmp_path, speed=SPEED, patience=PATIENCE) as demo:
        notice = demo.click(API, API_COMMIT, "Retry octo-api/main")
        assert notice == ("Re-running octo-api/main #88 (queue item 989); the card updates "
                          "when it starts.")
        passed = wait_for(lambda: (card := demo.card(API, API_COMMIT)) and
                          card["overall"] == "success" and card, timeout=30,
                          what="octo-api main passing again")
    [build] = passed["checks"]
    assert build["details"]["build_number"] == 89
    assert [s["text"] for s in passed["stamps"]] == []  # the retry's stamp went with the news


def test_off_the_machine_there_is_no_demo_user(tmp_path: Path) -> None:
    with demo_in_process(tmp_path, speed=SPEED, patience=PATIENCE) as demo:
        action = wait_for(lambda: demo.buttons(APP, FEATURE).get("Retry CI"), timeout=30,
                          what="Retry CI")
        host = f"devexbot.test:{urlsplit(demo.url).port}"  # a name that is not the machine's
        outside = httpx.Client(base_url=demo.url, timeout=10, headers={"Host": host})
        assert outside.get("/").status_code == 303  # the login wall
        pressed = outside.post(action, headers={"Origin": f"http://{host}"})
        assert pressed.status_code == 403
        assert httpx.get(f"{demo.url}/api/audit", timeout=10).json()["audit"] == []


def test_the_demos_github_and_jenkins_read_as_up(tmp_path: Path) -> None:
    """The demo's own GitHub and Jenkins answer the readiness checks as the real ones do,
    so the demo starts without 'GitHub is down' and `/readyz` says ready."""
    with demo_in_process(tmp_path, speed=SPEED, patience=PATIENCE) as demo:
        def ready() -> dict | None:
            answer = httpx.get(f"{demo.url}/readyz", timeout=10).json()
            states = {name: d["state"] for name, d in answer["dependencies"].items()}
            return answer if states["github"] == states["jenkins"] == "up" else None
        answer = wait_for(ready, what="the demo's GitHub and Jenkins read as up")
        assert answer["status"] == "ready", answer
