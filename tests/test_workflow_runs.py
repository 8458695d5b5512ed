"""One workflow run twice on one commit (`on: [push, pull_request]`): the card shows each
run on a line of its own, and a failed run keeps the card failed whichever finished last.
Deliveries are signed as GitHub signs them; what is asserted is the Slack message in the
fake and the card the API serves."""

from __future__ import annotations

import copy
import re
from typing import Any

from tests.bot import TestBot
from tests.fakes.slack_models import Message
from tests.github_sender import load_fixture
from tests.scenario import HEAD, REPO

ACTIONS = f"https://github.com/{REPO}/actions/runs"
PR_RUN, PUSH_RUN = 901, 902


def workflow_run(run_id: int, event: str, conclusion: str, updated: str, *,
                 attempt: int = 1) -> dict[str, Any]:
    """GitHub's `workflow_run` completed delivery for run `run_id` of the CI workflow."""
    payload = copy.deepcopy(load_fixture("workflow_run.completed"))
    run = payload["workflow_run"]
    run.update(
        id=run_id, event=event, conclusion=conclusion, run_attempt=attempt,
        run_number=run_id - 900, updated_at=f"2026-11-20T{updated}:00Z",
        url=f"https://api.github.com/repos/{REPO}/actions/runs/{run_id}",
        html_url=f"{ACTIONS}/{run_id}",
    )
    return payload


def workflow_job(run_id: int, job_id: int, conclusion: str, completed: str, *,
                 attempt: int = 1) -> dict[str, Any]:
    """GitHub's `workflow_job` completed delivery for the `test` job of run `run_id`."""
    payload = copy.deepcopy(load_fixture("workflow_job.completed"))
    job = payload["workflow_job"]
    job.update(
        id=job_id, run_id=run_id, run_attempt=attempt, conclusion=conclusion,
        completed_at=f"2026-11-20T{completed}:00Z",
        run_url=f"https://api.github.com/repos/{REPO}/actions/runs/{run_id}",
        html_url=f"{ACTIONS}/{run_id}/job/{job_id}",
        check_run_url=f"https://api.github.com/repos/{REPO}/check-runs/{job_id}",
    )
    if conclusion == "success":
        for step in job["steps"]:
            step["conclusion"] = "success"
    return payload


def deliver_both_runs(bot: TestBot) -> None:
    """Run 901 (pull_request) fails its test at 10:05; run 902 (push) passes at 10:06."""
    bot.deliver("push", load_fixture("push"))
    for event, payload in (
        ("workflow_job", workflow_job(PR_RUN, 7001, "failure", "10:04")),
        ("workflow_run", workflow_run(PR_RUN, "pull_request", "failure", "10:05")),
        ("workflow_job", workflow_job(PUSH_RUN, 7002, "success", "10:05")),
        ("workflow_run", workflow_run(PUSH_RUN, "push", "success", "10:06")),
    ):
        assert bot.deliver(event, payload).status_code == 202
    bot.settle()


def check_lines(message: Message) -> list[str]:
    """The message's lines that name a check, as Slack shows them."""
    lines = [
        line
        for block in message.blocks if block["type"] in ("section", "context")
        for text in ([block["text"]["text"]] if block["type"] == "section"
                     else [e["text"] for e in block["elements"]])
        for line in text.split("\n")
    ]
    return [line for line in lines if "/actions/runs/" in line]


def test_a_failed_pull_request_run_stays_red_when_the_push_run_passes_later(
    bot: TestBot,
) -> None:
    deliver_both_runs(bot)

    message = bot.message()
    assert message.text.startswith("❌"), message.text
    lines = check_lines(message)
    assert any("CI (pull_request)" in line and line.startswith("❌") for line in lines), lines
    assert any("CI (push)" in line and line.startswith("✅") for line in lines), lines
    assert any("CI (pull_request) / test" in line and line.startswith("❌")
               for line in lines), lines
    assert any("CI (push) / test" in line and line.startswith("✅") for line in lines), lines


def test_the_api_and_the_workspace_show_both_runs_and_fail(bot: TestBot) -> None:
    deliver_both_runs(bot)

    (card,) = bot.client.get("/api/cards", params={"repo": REPO}).json()["cards"]
    assert card["overall"] == "failure"
    runs = {(c["name"], c["status"], c["details"]["run_id"])
            for c in card["checks"] if c["kind"] in ("workflow", "job")}
    assert runs == {
        ("CI (pull_request)", "failure", PR_RUN),
        ("CI (pull_request) / test", "failure", PR_RUN),
        ("CI (push)", "success", PUSH_RUN),
        ("CI (push) / test", "success", PUSH_RUN),
    }
    with bot.web() as browser:
        page = browser.get(f"/cards/{REPO}/{HEAD}")
    assert page.status_code == 200
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    for line in ("failed CI (pull_request) / test", "passed CI (push) / test"):
        assert line in shown, shown


def test_a_rerun_that_passes_replaces_its_failed_attempt_only(bot: TestBot) -> None:
    deliver_both_runs(bot)
    # Someone re-runs the failed pull_request run: attempt 2 of run 901 passes.
    for event, payload in (
        ("workflow_job", workflow_job(PR_RUN, 7003, "success", "10:09", attempt=2)),
        ("workflow_run", workflow_run(PR_RUN, "pull_request", "success", "10:10", attempt=2)),
    ):
        assert bot.deliver(event, payload).status_code == 202
    bot.settle()

    message = bot.message()
    assert message.text.startswith("✅"), message.text
    lines = check_lines(message)
    assert not [line for line in lines if line.startswith("❌")], lines
    pull_request = [line for line in lines if "CI (pull_request)" in line]
    assert pull_request and all("attempt 2" in line for line in pull_request), lines
    assert any("CI (push) / test" in line for line in lines), lines


def test_a_workflow_that_ran_once_keeps_its_plain_name(bot: TestBot) -> None:
    bot.deliver("push", load_fixture("push"))
    bot.deliver("workflow_job", workflow_job(PUSH_RUN, 7002, "success", "10:05"))
    bot.deliver("workflow_run", workflow_run(PUSH_RUN, "push", "success", "10:06"))
    bot.settle()

    lines = check_lines(bot.message())
    assert len(lines) == 2 and all("(push)" not in line for line in lines), lines
    assert any("CI / test" in line for line in lines), lines
