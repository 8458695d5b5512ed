"""The Slack requests the bot takes: from its own workspace (or an Enterprise Grid
organisation it is configured for), over HTTP and Socket Mode; signed, fresh by the bot's
clock, and answered once, on whichever replica they reach."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.socket_mode.request import SocketModeRequest
from sqlalchemy import func, select

from correlation.slack_requests import (
    FUTURE_SKEW,
    REMEMBER_FOR,
    Repeat,
    RequestKey,
    SlackOrigin,
    request_key,
    timestamp_refusal,
    workspace_refusal,
)
from devexbot.store import Database, SeenRequest
from devexbot.store.seen_requests import SeenRequests
from handlers.slack.workspace import ELSEWHERE
from tests.bot import BotFactory, SteppedClock, TestBot
from tests.db_template import migrate
from tests.fakes.github_api import FakeGitHub
from tests.fakes.slack_models import TEAM_ID
from tests.scenario import REPO
from tests.slack_signing import block_actions_payload, slash_command_body
from tests.test_actions import fakes_settings
from tests.test_approvals import RUN_ID, Approvals

OPS = "C0OPS"
RUNBOOK = """
commands:
  probe:
    description: Say it ran
    run: ["echo", "probed"]
    allowed: ["*"]
    concurrency: 5
"""
APPROVALS = """
people:
  ana: U0ANA
  ben: U0BEN
approvals:
  production:
    approvers: [U0BEN]
    on_approve: github
"""
OTHER_TEAM, SISTER_TEAM, ORG = "T0ELSEWHERE", "T0SISTER", "E0OCTO"


# ---- the rules, as tables ------------------------------------------------------------------

NOW = 1_800_000_000


@pytest.mark.parametrize(("stamped", "refusal"), [
    (NOW, None),
    (NOW - 300, None),
    (NOW - 301, "the request is older than 5 minutes"),
    (NOW + 30, None),
    (NOW + FUTURE_SKEW, None),
    (NOW + FUTURE_SKEW + 1, "the request's timestamp is more than 60 s ahead of the bot's "
                            "clock"),
    (NOW + 250, "the request's timestamp is more than 60 s ahead of the bot's clock"),
])
def test_a_requests_timestamp_is_judged_by_the_bots_clock(stamped: int,
                                                          refusal: str | None) -> None:
    assert timestamp_refusal(stamped, float(NOW)) == refusal


@pytest.mark.parametrize(("team", "enterprise", "own", "enterprises", "refusal"), [
    (TEAM_ID, None, TEAM_ID, (), None),
    (OTHER_TEAM, None, TEAM_ID, (), f"the request comes from another Slack workspace "
                                    f"({OTHER_TEAM})"),
    (None, None, TEAM_ID, (), "the request names no Slack workspace"),
    (TEAM_ID, "E0ANY", TEAM_ID, (), None),  # the bot's workspace, in some organisation
    (SISTER_TEAM, ORG, TEAM_ID, (), f"the request comes from another Slack workspace "
                                    f"({SISTER_TEAM})"),  # the organisation is not allowed
    (SISTER_TEAM, ORG, TEAM_ID, (ORG,), None),
    (ORG, None, None, (ORG,), None),  # an org-wide install names the organisation
    (SISTER_TEAM, "E0RIVAL", TEAM_ID, (ORG,), f"the request comes from another Slack "
                                              f"workspace ({SISTER_TEAM})"),
    (TEAM_ID, None, None, (), "the bot does not know its own Slack workspace yet (Slack did "
                              "not answer auth.test; set SLACK_TEAM_ID)"),
])
def test_only_the_bots_workspace_or_a_configured_organisation_is_taken(
    team: str | None, enterprise: str | None, own: str | None, enterprises: tuple[str, ...],
    refusal: str | None,
) -> None:
    assert workspace_refusal(SlackOrigin(team, enterprise), own_team=own,
                             enterprises=enterprises) == refusal


@pytest.mark.parametrize(("body", "key"), [
    ("token=x&command=%2Fdevex", RequestKey("signature:v0=abc", Repeat.REPLAY)),
    ('{"type": "event_callback", "event_id": "Ev0ABC"}', RequestKey("event:Ev0ABC",
                                                                   Repeat.RETRY)),
    ('{"type": "url_verification", "challenge": "c"}', RequestKey("signature:v0=abc",
                                                                 Repeat.REPLAY)),
    ('{"not json', RequestKey("signature:v0=abc", Repeat.REPLAY)),
])
def test_a_request_is_remembered_by_its_signature_an_event_by_its_id(body: str,
                                                                     key: RequestKey) -> None:
    assert request_key(body, "v0=abc") == key


# ---- a request is answered once ------------------------------------------------------------


def runs(bot: TestBot) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = bot.client.get("/api/runs").json()["runs"]
    return found


def probe_body(**fields: Any) -> bytes:
    return slash_command_body("/devex", "probe", channel_id=OPS, channel_name="ops",
                              user_id="U0ANA", **fields)


def test_a_replayed_command_runs_its_runbook_once(make_bot: BotFactory) -> None:
    bot = make_bot(config=RUNBOOK)
    body = probe_body()
    headers = bot.slack_sender.headers(body)  # one signed request, sent three times
    answers = [bot.client.post("/slack/events", content=body, headers=headers)
               for _ in range(3)]
    assert [r["command"] for r in runs(bot)] == ["probe"]
    assert [a.status_code for a in answers] == [200, 401, 401], [a.text for a in answers]
    assert answers[1].json() == {"error": "the request was already answered"}


def test_a_request_reaching_two_replicas_at_once_runs_once(make_bot: BotFactory) -> None:
    replicas = [make_bot(config=RUNBOOK), make_bot(config=RUNBOOK)]  # one database
    body = probe_body()
    headers = replicas[0].slack_sender.headers(body)
    barrier = threading.Barrier(len(replicas))
    answers: list[httpx.Response] = []

    def deliver(bot: TestBot) -> None:
        barrier.wait()
        answers.append(bot.client.post("/slack/events", content=body, headers=headers))

    threads = [threading.Thread(target=deliver, args=(bot,)) for bot in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r["command"] for r in runs(replicas[0])] == ["probe"]
    assert sorted(a.status_code for a in answers) == [200, 401]


@pytest.mark.parametrize(("ahead", "taken"), [(30, True), (250, False)])
def test_a_request_stamped_ahead_of_the_bots_clock_is_refused(make_bot: BotFactory,
                                                               ahead: int, taken: bool) -> None:
    bot = make_bot(config=RUNBOOK)
    response = bot.slack_sender.send(probe_body(), timestamp=int(bot.clock.time()) + ahead)
    if taken:
        assert response.status_code == 200, response.text
        assert [r["command"] for r in runs(bot)] == ["probe"]
    else:
        assert response.status_code == 401
        assert response.json() == {"error": "the request's timestamp is more than 60 s ahead "
                                            "of the bot's clock"}
        assert runs(bot) == []


@pytest.mark.sqlite_only
def test_the_5_minute_window_is_counted_by_the_bots_clock(bot: TestBot) -> None:
    stamped = int(bot.clock.time())
    bot.clock.advance(301)
    response = bot.slack_sender.send(slash_command_body("/devex", "help"), timestamp=stamped)
    assert response.status_code == 401
    assert response.json() == {"error": "the request is older than 5 minutes"}


@pytest.mark.sqlite_only
def test_slack_delivering_an_event_again_is_answered_and_not_handled_again(bot: TestBot) -> None:
    """Slack signs each retry of an event afresh (new timestamp, `X-Slack-Retry-Num`); its
    `event_id` is what stays."""
    event = json.dumps({
        "token": "gIkuvaNzQIHg97ATvDxqgjtO", "team_id": TEAM_ID, "api_app_id": "A0DEVEXBOT",
        "type": "event_callback", "event_id": "Ev0RETRIED", "event_time": int(bot.clock.time()),
        "event": {"type": "app_mention", "user": "U0ANA", "text": "<@U0BOT> hi",
                  "ts": "1700000000.000100", "channel": OPS},
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": "U0BOT",
                            "is_bot": True, "is_enterprise_install": False}],
    }).encode()
    first = bot.slack_sender.send(event, content_type="application/json")
    assert first.status_code != 401, first.text  # Bolt's own answer (it has no listener)
    bot.clock.advance(60)
    headers = bot.slack_sender.headers(event, content_type="application/json")
    again = bot.client.post("/slack/events", content=event,
                            headers={**headers, "X-Slack-Retry-Num": "1",
                                     "X-Slack-Retry-Reason": "http_error"})
    assert (again.status_code, again.content) == (200, b"")


def test_the_bot_forgets_a_request_once_it_could_not_come_back(database_url: str) -> None:
    db = Database(database_url)
    migrate(db.engine)
    clock = SteppedClock()
    seen = SeenRequests(db, clock=clock.now)
    assert seen.first_sighting("signature:v0=a")
    assert not seen.first_sighting("signature:v0=a")
    clock.advance(REMEMBER_FOR + 1)
    assert seen.first_sighting("signature:v0=b")
    with db.read() as session:
        kept = session.execute(select(SeenRequest.key)).scalars().all()
        assert session.execute(select(func.count()).select_from(SeenRequest)).scalar() == 1
    db.dispose()
    assert kept == ["signature:v0=b"]


# ---- only the bot's own workspace ----------------------------------------------------------


def test_a_command_from_another_workspace_is_told_so_and_runs_nothing(
    make_bot: BotFactory
) -> None:
    bot = make_bot(config=RUNBOOK)
    response = bot.slack_sender.send(probe_body(team_id=OTHER_TEAM, team_domain="elsewhere"))
    assert response.status_code == 200
    assert response.json() == {"response_type": "ephemeral", "text": ELSEWHERE}
    assert runs(bot) == []


def approvals_bot(make_bot: BotFactory, fake_github: FakeGitHub, **settings: Any
                  ) -> Approvals:
    bot = Approvals(make_bot(config=APPROVALS, **fakes_settings(fake_github), **settings))
    bot.open_pr()
    bot.waiting_on_github(fake_github)
    return bot


def approve_payload(bot: Approvals, **team: Any) -> tuple[dict[str, Any], str]:
    """Ben's click on Approve production, from the workspace `team` says; the payload and
    the response_url its reply would go to."""
    message = bot.card_message(having="card.approve")
    action_id = next(e["action_id"] for b in message.blocks if b["type"] == "actions"
                     for e in b["elements"] if e["action_id"].startswith("card.approve"))
    url = bot.slack.new_response_url(message.channel, user="U0BEN", message_ts=message.ts)
    return block_actions_payload(action_id, message=message, user_id="U0BEN",
                                 user_name="ben", response_url=url, **team), url


def assert_not_approved(bot: Approvals, fake_github: FakeGitHub, url: str) -> None:
    assert fake_github.deployment_reviews(REPO) == []
    assert bot.deployment("production")["approval"]["state"] == "waiting"
    assert bot.slack.response_url_posts(url) == []
    assert bot.audit() == []


def test_a_click_from_another_workspace_approves_nothing(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    bot = approvals_bot(make_bot, fake_github)
    payload, url = approve_payload(bot, team_id=OTHER_TEAM, team_domain="elsewhere")
    response = bot.clicker.interaction(payload)
    assert response.status_code == 403
    assert response.json() == {
        "error": f"the request comes from another Slack workspace ({OTHER_TEAM})"}
    assert_not_approved(bot, fake_github, url)

    payload, url = approve_payload(bot)  # the same person, in the bot's own workspace
    assert bot.clicker.interaction(payload).status_code == 200
    assert bot.reply(url) == f"Approved production (1 of 1): approved on GitHub (run {RUN_ID})."


@pytest.mark.sqlite_only
def test_over_socket_mode_a_click_from_another_workspace_approves_nothing(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    """Socket Mode requests are not signed, but name their workspace all the same: what
    the Socket Mode adapter hands Bolt is checked as HTTP requests are."""
    bot = approvals_bot(make_bot, fake_github)
    assert bot.services.bolt is not None
    payload, url = approve_payload(bot, team_id=OTHER_TEAM, team_domain="elsewhere")
    answer = run_bolt_app(bot.services.bolt, SocketModeRequest(
        type="interactive", envelope_id="57d6a792-4d35-4d0b-b6aa-3361493e1caf",
        payload=payload))
    assert answer.status == 403
    assert_not_approved(bot, fake_github, url)


def test_a_configured_grid_organisation_may_use_the_bot_from_its_other_workspaces(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    bot = approvals_bot(make_bot, fake_github, slack_enterprise_ids=ORG)
    rival, url = approve_payload(bot, team_id=SISTER_TEAM, enterprise_id="E0RIVAL")
    assert bot.clicker.interaction(rival).status_code == 403
    assert_not_approved(bot, fake_github, url)

    sister, url = approve_payload(bot, team_id=SISTER_TEAM, enterprise_id=ORG)
    assert bot.clicker.interaction(sister).status_code == 200
    assert bot.reply(url) == f"Approved production (1 of 1): approved on GitHub (run {RUN_ID})."


@pytest.mark.sqlite_only
def test_slack_team_id_names_the_bots_workspace_over_the_tokens(make_bot: BotFactory) -> None:
    bot = make_bot(config=RUNBOOK, slack_team_id=OTHER_TEAM)
    refused = bot.slack_sender.send(probe_body())  # from the bot token's workspace
    assert refused.json()["text"] == ELSEWHERE
    taken = bot.slack_sender.send(probe_body(team_id=OTHER_TEAM))
    assert taken.status_code == 200 and ELSEWHERE not in taken.text
    assert [r["command"] for r in runs(bot)] == ["probe"]
