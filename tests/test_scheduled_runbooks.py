"""Runbook commands with `schedule:` run by themselves, as the bot, through the scheduler's
job and the same runner (audit, channel, streamed output); approval nudges name the
policy's approvers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from correlation.card import CommitCard, DeploymentLine
from correlation.status import Status
from devexbot.app import create_app
from devexbot.config import parse_config
from devexbot.errors import ConfigError
from devexbot.scheduler import ScheduledRunbook
from devexbot.scheduler.card_jobs import policy_approvers
from devexbot.scheduler.runbooks import scheduled_runbooks
from tests.conftest import GITHUB_SECRET
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import GitHubSender, load_fixture
from tests.slack_app import slack_services, wait_for
from tests.web_client import local_client

CONFIG = """
people:
  ana: U0ANA
commands:
  nightly-cleanup:
    description: Clean test data every weekday morning
    run: ["echo", "cleaned"]
    allowed: ["U0OPS"]
    channels: ["C0OPS"]
    schedule: "0 6 * * 1-5"
approvals:
  production:
    approvers: ["U0BEN", "S0REL", "github:ana", "@release"]
"""


@pytest.mark.sqlite_only
def test_a_scheduled_command_runs_as_the_bot_in_its_channel(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    services = slack_services(database_url, tmp_path, fake_slack.base_url, config=CONFIG)
    assert scheduled_runbooks(services.config.commands) == [
        ScheduledRunbook(command="nightly-cleanup", cron="0 6 * * 1-5", channel="C0OPS")]
    job = services.scheduler.specs["runbook:nightly-cleanup"]
    assert job.description == "runbook nightly-cleanup (0 6 * * 1-5)"
    with local_client(create_app(services=services)) as client:
        assert job.run(datetime(2026, 11, 23, 6, tzinfo=UTC)).startswith("started run ")
        run = wait_for(lambda: next((r for r in client.get("/api/runs").json()["runs"]
                                     if r["status"] == "succeeded"), None),
                       what="the scheduled run to finish")
    assert run["command"] == "nightly-cleanup"
    assert "scheduler" in str(run)  # by the bot, not a person who may lack permission
    assert "cleaned" in run["output_tail"]
    assert fake_slack.messages("C0OPS"), "the run is announced in its channel"
    services.db.dispose()


@pytest.mark.parametrize(("schedule", "problem"), [
    ('"every morning"', "not a cron schedule"),
    ('"0 6 * * 1-5"\n    channels: []', "a scheduled command needs `channels`"),
])
def test_a_bad_schedule_is_a_config_error(schedule: str, problem: str) -> None:
    text = CONFIG.replace('"0 6 * * 1-5"', schedule).replace('    channels: ["C0OPS"]\n', "")
    if "channels: []" not in schedule:
        text = text.replace("    allowed:", '    channels: ["C0OPS"]\n    allowed:')
    with pytest.raises(ConfigError) as error:
        parse_config(text, source="devexbot.yaml")
    assert problem in " ".join(error.value.problems)


@pytest.mark.sqlite_only
def test_approval_nudges_name_the_policys_approvers(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    services = slack_services(database_url, tmp_path, fake_slack.base_url, config=CONFIG)
    approvers = policy_approvers(services.config.approvals, services.people)
    card = CommitCard(repo="octo-org/octo-app", sha="a" * 40)
    waiting = DeploymentLine(environment="production", status=Status.WAITING, url=None,
                             updated_at=datetime(2026, 11, 20, tzinfo=UTC))
    assert list(approvers(card, waiting)) == ["U0BEN", "S0REL", "U0ANA"]
    staging = DeploymentLine(environment="staging", status=Status.WAITING, url=None,
                             updated_at=datetime(2026, 11, 20, tzinfo=UTC))
    assert list(approvers(card, staging)) == []
    services.db.dispose()


@pytest.mark.sqlite_only
def test_a_scheduled_run_in_a_channel_named_by_name_keeps_slacks_pace_with_the_cards(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """The config names the channel `#ops`, the cards' route too: the run's messages and the
    cards are one channel's posts to Slack, at most one a second between them all."""
    ops = fake_slack.add_channel("ops")
    config = CONFIG.replace('channels: ["C0OPS"]', 'channels: ["#ops"]')
    services = slack_services(database_url, tmp_path, fake_slack.base_url, config=config,
                              slack_default_channel="#ops")
    with local_client(create_app(services=services)) as client:
        GitHubSender(client, GITHUB_SECRET).deliver("push", load_fixture("push"))
        wait_for(lambda: fake_slack.messages(ops), what="the commit's card in #ops")
        job = services.scheduler.specs["runbook:nightly-cleanup"]
        job.run(datetime(2026, 11, 23, 6, tzinfo=UTC))  # at once after the card's post
        wait_for(lambda: next((r for r in client.get("/api/runs").json()["runs"]
                               if r["status"] == "succeeded"), None),
                 what="the scheduled run to finish")
        wait_for(lambda: len(fake_slack.messages(ops)) >= 2, what="the run's message in #ops")
    services.db.dispose()
    # Paced a second apart when sent; arrival times are looser on a busy machine (one CI
    # run saw 0.899 s). Paced apart by name and by ID, the run's post came ~0.05 s after
    # the card's: half a second tells the two apart with room to spare.
    assert fake_slack.post_rate_violations(min_interval=0.5) == []
