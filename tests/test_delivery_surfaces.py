"""The hand-built history of tests/delivery_history.py told to the bot as the senders tell
it (signed pushes, pull requests and deploy webhooks; GitHub's compare API says what each
deploy carried), and read back: `GET /api/metrics`, `/devex metrics`, the `/delivery` page
and the Prometheus gauges all show the hand-computed figures."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.bot import BotFactory, SteppedClock, TestBot
from tests.delivery_history import (
    COMMITS,
    DEPLOYS,
    EXPECTED,
    HOTFIX_AT,
    HOTFIX_PULL,
    SINCE,
    T0,
    UNTIL,
    D,
    H,
)
from tests.fakes.github_api import FakeGitHub
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import load_fixture
from tests.test_actions import fakes_settings
from tests.web_client import OUTSIDE

REPO = "octo-org/octo-app"
CONFIG = """\
environments: [staging, production]
metrics:
  production: [production]
  failure_window: 24h
  hotfix_label: hotfix
  period: 14d
"""
SPAN = f"since={SINCE.date().isoformat()}&until={UNTIL.date().isoformat()}"


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock(start=T0 - 3 * D)


class History:
    """The bot, and the SHAs the fake GitHub gave the history's commits."""

    def __init__(self, bot: TestBot, github: FakeGitHub, clock: SteppedClock) -> None:
        self.bot, self.github, self.clock = bot, github, clock
        self.sha: dict[str, str] = {}
        for name, (_, title) in COMMITS.items():
            message = title
            if name == "r1":
                message += f"\n\nThis reverts commit {self.sha['c1']}."
            self.sha[name] = github.add_commit(REPO, message, branch="main")
        self.name = {sha: name for name, sha in self.sha.items()}

    def replay(self) -> None:
        steps: list[tuple[timedelta, int, Any]] = [
            (at, 0, ("seen", name)) for name, (at, _) in COMMITS.items()]
        steps += [(at, 1, ("deploy", step)) for step in DEPLOYS for at in [step[0]]]
        steps.append((HOTFIX_AT, 2, ("hotfix", "h1")))
        for at, _, (kind, what) in sorted(steps, key=lambda s: (s[0], s[1])):
            self.clock.advance(T0 + at - self.clock.now())
            if kind == "seen":
                self.push(what)
            elif kind == "deploy":
                self.deploy(*what[1:])
            else:
                self.hotfix(what)
            self.bot.flush()

    def now(self) -> str:
        return self.clock.now().isoformat().replace("+00:00", "Z")

    def push(self, name: str) -> None:
        payload = copy.deepcopy(load_fixture("push"))
        sha = self.sha[name]
        payload.update(after=sha, ref="refs/heads/main")
        payload["repository"]["pushed_at"] = int(self.clock.now().timestamp())
        message = self.github.state.commits[REPO][sha].message
        payload["head_commit"].update(id=sha, message=message, timestamp=self.now())
        assert self.bot.deliver("push", payload).status_code == 202

    def deploy(self, name: str, environment: str, succeeded: bool) -> None:
        response = self.bot.deploy.send({
            "repository": REPO, "sha": self.sha[name], "environment": environment,
            "status": "success" if succeeded else "failure", "timestamp": self.now(),
            "deployment_id": f"{name}-{environment}-{self.now()}"})
        assert response.status_code == 202, response.text

    def hotfix(self, name: str) -> None:
        payload = copy.deepcopy(load_fixture("pull_request.opened"))
        pull = payload["pull_request"]
        payload["number"] = pull["number"] = HOTFIX_PULL
        pull["head"]["sha"] = self.sha[name]
        pull["labels"] = [{"id": 1, "name": "hotfix", "color": "d73a4a"}]
        pull["updated_at"] = self.now()
        assert self.bot.deliver("pull_request", payload).status_code == 202


@pytest.fixture
def history(make_bot: BotFactory, fake_github: FakeGitHub, clock: SteppedClock) -> History:
    bot = make_bot(config=CONFIG, **fakes_settings(fake_github))
    told = History(bot, fake_github, clock)
    told.replay()
    return told


def test_the_api_shows_the_hand_computed_figures(history: History) -> None:
    # D1 told again, as another tool (or a retry with a new id) would: it counts once.
    again = history.bot.deploy.send({
        "repository": REPO, "sha": history.sha["a2"], "environment": "production",
        "status": "success", "timestamp": (T0 + 5 * H).isoformat(), "deployment_id": "again"})
    assert again.status_code == 202
    history.bot.flush()
    response = history.bot.client.get(f"/api/metrics?repo={REPO}&env=production&{SPAN}")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["since"], answer["until"], answer["failure_window_hours"]) == (
        "2026-11-02T00:00:00Z", "2026-11-16T00:00:00Z", 24.0)
    [found] = answer["metrics"]
    assert (found["repo"], found["environment"]) == (REPO, "production")
    frequency = found["deployment_frequency"]
    assert (frequency["deployments"], frequency["per_week"]) == (
        EXPECTED["deployments"], EXPECTED["per_week"])
    assert [history.name[d["sha"]] for d in frequency["deploys"]] == \
        ["a2", "b1", "c1", "r1", "d1", "r1", "e1", "h1"]
    assert [d["rollback"] for d in frequency["deploys"]].count(True) == 1
    lead = found["lead_time"]
    assert lead["median_hours"] == EXPECTED["lead_time_hours"]
    # Every commit a deploy carried, a1 and d1 included (they were never deployed as heads
    # of those deploys: GitHub's compare said what came with a2 and e1).
    assert {history.name[c["sha"]]: c["hours"] for c in lead["commits"]} == \
        EXPECTED["lead_times"]
    failures = found["change_failure_rate"]
    assert failures["rate"] == EXPECTED["change_failure_rate"]
    assert [(history.name[f["deploy"]["sha"]], f["signal"], f["restore_hours"])
            for f in failures["failures"]] == EXPECTED["failures"]
    assert failures["failures"][1]["ref"] == history.sha["r1"]  # the revert behind it
    assert found["time_to_restore"] == {"median_hours": EXPECTED["time_to_restore_hours"],
                                        "unrestored": 0}
    assert [(w["deployments"], w["lead_time_hours"], w["change_failure_rate"],
             w["time_to_restore_hours"]) for w in found["weeks"]] == EXPECTED["weeks"]
    # Without env, the production environments; without repo, every repository.
    assert history.bot.client.get(f"/api/metrics?{SPAN}").json()["metrics"] == [found]
    staging = history.bot.client.get(f"/api/metrics?env=staging&{SPAN}").json()["metrics"]
    assert [(m["repo"], m["deployment_frequency"]["deployments"]) for m in staging] == \
        [(REPO, 1)]


def test_prometheus_has_the_figures_of_the_default_period(history: History) -> None:
    history.clock.advance(UNTIL - history.clock.now())  # the last 14 days hold the history
    body = history.bot.client.get("/metrics").text
    labels = f'{{env="production",repo="{REPO}"}}'
    assert f"devexbot_dora_deployments{labels} 8.0" in body
    assert f"devexbot_dora_deployment_frequency{labels} {8 * 7 / 14}" in body
    assert f"devexbot_dora_lead_time_seconds{labels} {2.5 * 3600}" in body
    assert f"devexbot_dora_change_failure_rate{labels} 0.5" in body
    assert f"devexbot_dora_time_to_restore_seconds{labels} {3.0 * 3600}" in body


def test_slack_shows_the_figures_to_the_caller(history: History) -> None:
    history.clock.advance(UNTIL - history.clock.now())
    response = history.bot.slack_sender.command("/devex", f"metrics {REPO} production 14d",
                                                user_id="U0ANA", channel_id="C0TEAM")
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    assert reply["text"] == "Delivery metrics, production, last 14 days"
    section = reply["blocks"][1]
    assert [f["text"] for f in section["fields"]] == [
        "*Deployment frequency*\n8 deploys (4 a week)",
        "*Lead time for changes*\nmedian 2.5 h (8 commits)",
        "*Change failure rate*\n50% (4 of 8)",
        "*Time to restore*\nmedian 3 h",
    ]
    trend = reply["blocks"][2]["elements"][0]["text"]
    assert trend.startswith("wk 02 Nov: 4 deploys, 4 h, 50% · wk 09 Nov: 4 deploys, 60 min, 50%")


def test_every_repository_s_figures_come_after_the_answer(history: History,
                                                         slack: FakeSlack) -> None:
    history.clock.advance(UNTIL - history.clock.now())
    url = slack.new_response_url("C0TEAM", user="U0ANA")
    reply = history.bot.slack_sender.command("/devex", "metrics", user_id="U0ANA",
                                             channel_id="C0TEAM", response_url=url).json()
    assert reply["text"] == "Working out the delivery metrics of every repository…"
    [post] = slack.wait_for_response_url_posts(url)
    assert post["response_type"] == "ephemeral"
    assert post["blocks"][1]["fields"][2]["text"] == "*Change failure rate*\n50% (4 of 8)"


@pytest.mark.parametrize(("text", "error"), [
    ("metrics octo-org/octo-app production 2000w",
     "a period may be at most 400 days, not '2000w'."),
    ("metrics 7x", "a period is a number and d, w or h (7d, 30d, 12w), not '7x'."),
    ("metrics production staging", "I don't understand `staging`."),
])
def test_slack_says_what_is_wrong_in_one_line(make_bot: BotFactory, text: str,
                                              error: str) -> None:
    bot = make_bot(config=CONFIG)
    reply = bot.slack_sender.command("/devex", text, user_id="U0ANA").json()
    assert reply["text"].startswith(error)
    assert "\n" not in reply["text"] and reply["response_type"] == "ephemeral"


def test_the_page_shows_the_figures_and_what_is_behind_them(history: History) -> None:
    with history.bot.web() as browser:
        page = browser.get(f"/delivery?repo={REPO}&env=production&{SPAN}")
    assert page.status_code == 200, page.text
    html = page.text
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "8 deploys" in text and "4 a week" in text
    assert "median 2.5 h" in text and "50%" in text and "median 3 h" in text
    assert html.count("<svg") >= 4  # a weekly trend per figure, drawn on the server
    assert "<script" not in html.split("<main>")[1]
    for name in ("a1", "d1", "h1"):  # the commits behind the lead time link to their cards
        assert f'href="/cards/{REPO}/{history.sha[name]}"' in html
    assert "revert" in text and "rollback" in text and "hotfix" in text


@pytest.mark.parametrize(("query", "detail"), [
    ("repo=not-a-repo", "repo must look like owner/repo, not 'not-a-repo'"),
    ("env=", "env must be an environment's name (1 to 100 characters)"),
    ("env=" + "x" * 101, "env must be an environment's name (1 to 100 characters)"),
    ("since=yesterday", "since must be an ISO 8601 date or time (2026-11-02 or "
                        "2026-11-02T09:00:00Z), not 'yesterday'"),
    ("since=2026-11-10&until=2026-11-02", "since must be before until"),
    ("until=9999-12-31", "until must be between 1970 and 2999, not '9999-12-31'"),
    ("since=0001-01-01", "since must be between 1970 and 2999, not '0001-01-01'"),
    ("since=2020-01-01&until=2026-11-02", "since and until may be at most 400 days apart"),
])
def test_bad_query_params_are_a_400_in_one_line(make_bot: BotFactory, query: str,
                                                detail: str) -> None:
    bot = make_bot(config=CONFIG, slack_on=False)
    response = bot.client.get(f"/api/metrics?{query}")
    assert (response.status_code, response.json()) == (400, {"detail": detail})
    with bot.web() as browser:
        page = browser.get(f"/delivery?{query}")
    assert page.status_code == 400 and detail.replace("'", "&#39;") in page.text


def test_a_quiet_period_has_no_figures(make_bot: BotFactory) -> None:
    bot = make_bot(config=CONFIG, slack_on=False)
    assert bot.client.get("/api/metrics").json()["metrics"] == []
    assert isinstance(datetime.fromisoformat(bot.client.get("/api/metrics").json()["since"]),
                      datetime)


def test_off_the_machine_the_figures_need_the_web_token_as_the_rest_of_the_api(
        make_bot: BotFactory) -> None:
    token = "metrics-reader-0123456789abcdef"
    bot = make_bot(config=CONFIG, slack_on=False, devexbot_web_token=token)
    with bot.web(client=OUTSIDE) as outside:
        refused = outside.get("/api/metrics")
        assert refused.status_code == 401 and "web token" in refused.json()["detail"]
        assert outside.get("/delivery", follow_redirects=False).status_code == 303  # sign in
        allowed = outside.get("/api/metrics", headers={"Authorization": f"Bearer {token}"})
        assert allowed.status_code == 200 and allowed.json()["metrics"] == []


def test_the_page_says_what_is_wrong_with_its_period(make_bot: BotFactory) -> None:
    bot = make_bot(config=CONFIG, slack_on=False)
    with bot.web() as browser:
        page = browser.get("/delivery?period=2000w")
        assert page.status_code == 400
        assert "a period may be at most 400 days, not &#39;2000w&#39;" in page.text
        assert browser.get("/delivery?period=12w").status_code == 200
