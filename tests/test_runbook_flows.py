"""Runbook flows with clicks and modals: confirmation, concurrency refusal, the parameters
modal, Run again, a runbook's own slash command, and a Jenkins-backed runbook."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devexbot.runbooks.actions import RunbookAction
from devexbot.runbooks.model import LocalRun, RunbookCommand
from devexbot.runbooks.runs import Busy, Requester, RunStore
from devexbot.store import Database
from tests.db_template import migrate
from tests.fakes.jenkins_runbook import FakeJenkins
from tests.fakes.slack_api import FakeSlack
from tests.runbook_bot import OPS, Bot, button_value, runbook_bot, wait_until

COMMANDS = """
commands:
  cleanup-test-data:
    description: Delete test fixtures older than N days
    run: ["scripts/probe.py", "--env", "{env}", "--days", "{days}"]
    params:
      env: {choices: [test, staging], default: test}
      days: {type: int, min: 1, max: 90, default: 7}
    allowed: ["@ops", "U0ANA"]
    confirm: true
    timeout: 30
  slow:
    description: Holds its slot until released
    run: ["scripts/slow.sh"]
    allowed: ["*"]
  deploy:
    description: Deploy one service
    run: ["scripts/probe.py", "{service}", "{region}", "{replicas}"]
    params:
      service: {pattern: "[a-z][a-z0-9-]*", description: the service's name}
      region: {choices: [eu, us]}
      replicas: {type: int, min: 1, max: 5}
    allowed: ["*"]
  reindex:
    description: Rebuild the search index on a Jenkins agent
    jenkins: ops/reindex
    params:
      index: {choices: [products, users]}
    allowed: ["*"]
"""


@pytest.fixture
def jenkins() -> Iterator[FakeJenkins]:
    with FakeJenkins() as fake:
        yield fake


@pytest.fixture
def bot(database_url: str, tmp_path: Path, fake_slack: FakeSlack, jenkins: FakeJenkins
        ) -> Iterator[Bot]:
    with runbook_bot(database_url, tmp_path, fake_slack, COMMANDS, jenkins_url=jenkins.url,
                     jenkins_user=jenkins.user, jenkins_api_token=jenkins.token) as running:
        yield running


def as_message(ack: dict[str, Any]) -> dict[str, Any]:
    """The ephemeral message a slash command's answer became, as a click payload holds it."""
    return {"type": "message", "ts": "1700000000.000200", "text": ack["text"],
            "blocks": ack["blocks"]}


def test_confirm_shows_run_and_cancel_and_runs_once(bot: Bot) -> None:
    prompt = bot.reply("cleanup-test-data env=staging days=3")
    assert prompt["text"] == "Run `cleanup-test-data env=staging days=3` in this channel?"
    assert prompt.get("response_type", "ephemeral") == "ephemeral"
    assert [r.status for r in bot.runs()] == []  # awaiting confirmation is not history
    assert bot.fake.calls("chat.postMessage") == []

    _, url = bot.click(RunbookAction.CONFIRM_RUN, as_message(prompt))
    run = bot.finished_run("cleanup-test-data")
    assert (run.status, run.args) == ("succeeded", {"env": "staging", "days": "3"})
    wait_until(lambda: bot.fake.response_url_posts(url), what="the prompt to go")
    assert bot.fake.response_url_posts(url) == [{"text": "", "delete_original": True}]
    # A second click on the same Run button runs nothing.
    _, again = bot.click(RunbookAction.CONFIRM_RUN, as_message(prompt))
    posts = wait_until(lambda: bot.fake.response_url_posts(again), what="the answer")
    assert posts[0]["text"] == "That run was already started."
    assert len(bot.runs("cleanup-test-data")) == 1


@pytest.mark.sqlite_only
def test_cancel_runs_nothing_and_is_recorded(bot: Bot) -> None:
    prompt = bot.reply("cleanup-test-data")
    _, url = bot.click(RunbookAction.CONFIRM_CANCEL, as_message(prompt))
    posts = wait_until(lambda: bot.fake.response_url_posts(url), what="the answer")
    assert posts[0] == {"text": "Cancelled: `cleanup-test-data` did not run.",
                        "replace_original": True}
    [run] = bot.runs("cleanup-test-data")
    assert run.status == "cancelled" and run.started_at is None
    _, late = bot.click(RunbookAction.CONFIRM_RUN, as_message(prompt))
    assert wait_until(lambda: bot.fake.response_url_posts(late))[0]["text"] == (
        "That run was already cancelled.")
    assert bot.fake.calls("chat.postMessage") == []


def test_a_second_run_is_refused_while_one_runs(bot: Bot) -> None:
    assert bot.command("slow").text == ""
    wait_until(lambda: bot.runs("slow"), what="the first run")
    refused = bot.reply("slow", user="U0BEN")
    assert refused["text"] == "`slow` is already running, started by <@U0ANA> just now."
    (bot.directory / "release").write_text("")
    bot.finished_run("slow", count=2)
    statuses = sorted((r.user_id, r.status) for r in bot.runs("slow"))
    assert statuses == [("U0ANA", "succeeded"), ("U0BEN", "refused")]
    # Free again: the next one runs.
    assert bot.command("slow", user="U0BEN").text == ""
    assert bot.finished_run("slow", count=3).user_id == "U0BEN"


def test_the_claim_holds_across_replicas(database_url: str) -> None:
    db = Database(database_url)
    migrate(db.engine)
    replicas = [RunStore(Database(database_url)) for _ in range(4)]
    command = RunbookCommand(name="slow", description="x", params=(),
                             execution=LocalRun(("x",), Path(".")), allowed=("*",))
    results: list[Any] = []
    barrier = threading.Barrier(len(replicas))

    def claim(store: RunStore, user: str) -> None:
        barrier.wait()
        results.append(store.claim(command, Requester(user, OPS), {}))

    threads = [threading.Thread(target=claim, args=(store, f"U0{i}"))
               for i, store in enumerate(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    won = [r for r in results if not isinstance(r, Busy)]
    assert len(results) == 4 and len(won) == 1
    assert all(r.holder.id == won[0].id for r in results if isinstance(r, Busy))
    for store in replicas:
        store.db.dispose()
    db.dispose()


@pytest.mark.sqlite_only
def test_missing_parameters_open_a_modal_built_from_the_schema(bot: Bot) -> None:
    assert bot.command("deploy api").text == ""
    [open_call] = bot.fake.wait_for_calls("views.open")
    assert open_call.ok, open_call.response
    [view] = bot.fake.views()
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == ["param:service", "param:region", "param:replicas"]
    assert inputs["param:service"]["element"] == {
        "type": "plain_text_input", "action_id": "value", "max_length": 500,
        "initial_value": "api"}
    assert inputs["param:service"]["hint"]["text"] == "the service's name"
    assert inputs["param:region"]["element"]["type"] == "static_select"
    assert [o["value"] for o in inputs["param:region"]["element"]["options"]] == ["eu", "us"]
    assert inputs["param:replicas"]["element"] == {
        "type": "number_input", "action_id": "value", "is_decimal_allowed": False,
        "min_value": "1", "max_value": "5"}

    wrong = bot.submit(view, {"param:service": {"value": "API!"},
                              "param:region": {"value": {"type": "static_select",
                                                         "selected_option": {"value": "eu"}}},
                              "param:replicas": {"value": {"type": "number_input",
                                                           "value": "9"}}})
    assert wrong.json() == {"response_action": "errors", "errors": {
        "param:service": "`service` must match `[a-z][a-z0-9-]*`, not `API!`",
        "param:replicas": "`replicas` must be a whole number from 1 to 5, not 9"}}
    assert bot.runs() == []

    ok = bot.submit(view, {"param:service": {"value": "api"},
                           "param:region": {"value": {"type": "static_select",
                                                      "selected_option": {"value": "us"}}},
                           "param:replicas": {"value": {"type": "number_input",
                                                        "value": "2"}}})
    assert ok.status_code == 200 and ok.text == ""
    run = bot.finished_run("deploy")
    assert (run.status, run.args, run.channel) == (
        "succeeded", {"service": "api", "region": "us", "replicas": "2"}, OPS)
    assert (bot.directory / "probe.json").read_text().strip() == '["api", "us", "2"]'


@pytest.mark.sqlite_only
def test_run_again_repeats_the_run_as_the_clicker(bot: Bot) -> None:
    bot.command("slow")
    (bot.directory / "release").write_text("")
    first = bot.finished_run("slow")
    reply = bot.reply_message(first)
    assert button_value(reply, RunbookAction.RUN_AGAIN) == {"run": first.id, "args": {}}
    bot.click(RunbookAction.RUN_AGAIN, bot.fake.message_json(OPS, first.slack_reply_ts),
              user="U0BEN", message_ts=first.slack_reply_ts)
    second = bot.finished_run("slow", count=2)
    assert (second.user_id, second.rerun_of, second.status) == ("U0BEN", first.id, "succeeded")
    assert bot.fake.final_message(OPS, second.slack_ts).text.startswith("<@U0BEN> ran `slow`")


@pytest.mark.sqlite_only
def test_run_again_of_a_confirmed_runbook_asks_again(bot: Bot) -> None:
    prompt = bot.reply("cleanup-test-data days=2")
    bot.click(RunbookAction.CONFIRM_RUN, as_message(prompt))
    first = bot.finished_run("cleanup-test-data")
    reply = bot.reply_message(first)
    _, url = bot.click(RunbookAction.RUN_AGAIN, bot.fake.message_json(OPS, reply.ts),
                       message_ts=reply.ts)
    [asked] = wait_until(lambda: bot.fake.response_url_posts(url), what="a new prompt")
    assert asked["text"] == "Run `cleanup-test-data env=test days=2` in this channel?"
    assert asked["response_type"] == "ephemeral" and asked["replace_original"] is False
    bot.click(RunbookAction.CONFIRM_RUN, {"type": "message", "ts": "1.2", **asked})
    second = bot.finished_run("cleanup-test-data", count=2)
    assert second.rerun_of == first.id and second.args == {"env": "test", "days": "2"}


@pytest.mark.sqlite_only
def test_a_runbook_has_its_own_slash_command_where_the_manifest_adds_it(bot: Bot) -> None:
    assert bot.command("", command="/slow").text == ""
    (bot.directory / "release").write_text("")
    run = bot.finished_run("slow")
    assert run.status == "succeeded"
    assert bot.reply("--help", command="/deploy")["text"].startswith(
        "`/deploy service=text region=eu|us replicas=1..5` — Deploy one service")
    assert "already running" not in bot.reply("x=1", command="/slow")["text"]


@pytest.mark.sqlite_only
def test_a_jenkins_runbook_streams_the_build_into_the_thread(bot: Bot, jenkins: FakeJenkins
                                                            ) -> None:
    jenkins.add_job("ops/reindex", queue_wait=0.2, script=[
        (0.0, "Started by user devexbot\n"), (0.4, "indexing users\n"), (0.8, "indexed\n")])
    assert bot.command("reindex users").text == ""
    run = bot.finished_run("reindex")
    assert (run.status, run.exit_code, run.executor) == ("succeeded", 0, "jenkins")
    assert run.url == f"{jenkins.url}job/ops/job/reindex/1/"
    reply = bot.reply_message(run)
    assert f"<{jenkins.url}job/ops/job/reindex/1/|Jenkins build>" in reply.text
    assert reply.blocks[1]["text"]["text"] == (
        "```\nStarted by user devexbot\nindexing users\nindexed\nFinished: SUCCESS\n```")
    [trigger] = jenkins.calls("/buildWithParameters")
    assert trigger.query == {"index": "users"}
