"""A channel that takes one message per pull request, as Slack would show it: the bot's
blocks from the fake Slack, drawn by tests/slack_picture.py and shown in a real browser
(Debian's chromium, as tests/e2e/test_web_browser.py drives it).
DEVEXBOT_README_SCREENSHOT=1 writes the picture the README shows
(devexbot/web/static/per-pull-request.png)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from tests.bot import BotFactory
from tests.e2e.test_web_browser import TIMEOUT_MS, _shot, browser
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import load_fixture
from tests.slack_picture import conversation_page
from tests.test_per_pull_request import A, B, C, b_pushed, c_pushed, failed, merged, opened, start

__all__ = ["browser"]  # a fixture, shared

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "devexbot/web/static/per-pull-request.png"
CAPTION = ("Drawn from the blocks the bot posted to the test suite's fake Slack "
           "(tests/e2e/test_slack_picture.py), in Slack's manner: one message for PR #12, "
           "its history in the thread.")
MESSAGES = {A: "Add login page", B: "Validate the login form",
            C: "Reject an empty password"}
BEFORE = {A: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", B: A, C: B}


def pushed(sha: str, at: str) -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture("push"))
    payload["before"], payload["after"] = BEFORE[sha], sha
    payload["head_commit"].update(id=sha, message=MESSAGES[sha], timestamp=at,
                                  url=payload["head_commit"]["url"].rsplit("/", 1)[0] + f"/{sha}")
    payload["commits"] = [payload["head_commit"]]
    return payload


def passed(sha: str, name: str) -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture("check_run.completed"))
    payload["check_run"].update(head_sha=sha, name=name)
    payload["check_run"]["check_suite"]["head_sha"] = sha
    return payload


@pytest.mark.sqlite_only  # what a browser shows does not depend on the engine
def test_one_message_per_pull_request_as_a_channel_sees_it(
    make_bot: BotFactory, slack: FakeSlack, browser: Any, tmp_path: Path
) -> None:
    bot, prs = start(make_bot, slack)
    # A push and its PR's event come together (a push to a PR's branch waits for it).
    story = [[("push", pushed(A, "2026-11-20T09:58:00Z"))], [("pull_request", opened())],
             [("check_run", passed(A, "build"))],
             [("push", pushed(B, "2026-11-20T10:19:00Z")), ("pull_request", b_pushed())],
             [("check_run", passed(B, "build")), ("check_run", failed(B))],
             [("push", pushed(C, "2026-11-20T10:24:00Z")), ("pull_request", c_pushed())],
             [("check_run", passed(C, "build")), ("check_run", passed(C, "test"))],
             [("pull_request", merged())]]
    for together in story:
        for kind, payload in together:
            bot.deliver(kind, payload)
        bot.settle()

    (top,) = slack.messages(prs)
    top = slack.final_message(prs, top.ts)
    replies = slack.thread(prs, top.ts)[1:]
    page_html = conversation_page("prs", top, replies, {"U0DEVEXBOT": "devexbot",
                                                         "U0ANA": "ana"}, CAPTION)
    (tmp_path / "prs.html").write_text(page_html)

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto((tmp_path / "prs.html").as_uri())
    channel, thread = page.locator(".channel .message"), page.locator(".thread .message")
    # The channel holds one message, the PR's, showing its last head: merged, checks green.
    assert channel.count() == 1
    shown = channel.inner_text()
    assert "✅ octo-org/octo-app · feature/login" in shown and "merged" in shown
    assert C[:7] in shown and MESSAGES[C] in shown
    # Its thread holds the two earlier heads, the failure reply and the merge commit.
    assert thread.count() == 1 + 4
    texts = thread.all_inner_texts()[1:]
    assert f"Superseded by {B[:7]}" in texts[0] and MESSAGES[A] in texts[0]
    assert "@ana ❌ test failed on octo-org/octo-app" in texts[1]
    assert f"Superseded by {C[:7]}" in texts[2] and "2 tests failed" in texts[2]
    assert "octo-org/octo-app · main" in texts[3]
    assert page.locator(".unknown").count() == 0  # every block the bot sent is drawn
    shot = _shot(page, "per-pull-request.png", full_page=True)
    context.close()
    if os.environ.get("DEVEXBOT_README_SCREENSHOT"):
        SCREENSHOT.write_bytes(shot.read_bytes())
