"""Runbooks from Slack, end to end: signed slash commands to the real app, scripts run as
real processes, output streamed into a thread of the fake Slack, runs audited."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devexbot.runbooks.actions import RunbookAction
from tests.fakes.slack_api import FakeSlack
from tests.runbook_bot import INTERVAL, OPS, Bot, button_value, runbook_bot, wait_until

COMMANDS = """
commands:
  cleanup-test-data:
    description: Delete test fixtures older than N days
    run: ["scripts/cleanup.sh", "--env", "{env}", "--days", "{days}"]
    params:
      env: {choices: [test, staging], default: test}
      days: {type: int, min: 1, max: 90, default: 7}
    allowed: ["@ops", "U0ANA"]
    timeout: 30
  mark:
    description: Leave a marker file
    run: ["scripts/marker.sh"]
    allowed: ["U0ANA"]
    channels: ["#ops"]
  leak:
    description: Print secrets, to see them redacted
    run: ["scripts/leaky.sh", "{token}"]
    params:
      token: {secret: true}
    secrets: [DB_PASSWORD]
    allowed: ["*"]
  probe:
    description: Record its arguments
    run: ["scripts/probe.py", "{text}", "{count}"]
    params:
      text: {description: any words}
      count: {type: int, min: 0, max: 5, default: 1}
    allowed: ["*"]
  nap:
    description: Sleeps past its timeout
    run: ["scripts/sleepy.sh"]
    allowed: ["*"]
    timeout: 1
"""


@pytest.fixture
def bot(database_url: str, tmp_path: Path, fake_slack: FakeSlack,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    monkeypatch.setenv("DB_PASSWORD", "hunter2-db-password")  # the bot's own environment
    with runbook_bot(database_url, tmp_path, fake_slack, COMMANDS) as running:
        yield running


@pytest.mark.sqlite_only
def test_a_run_streams_its_output_into_a_thread_and_is_audited(bot: Bot) -> None:
    (bot.directory / "hold").write_text("")  # the script waits at its end until released
    started = time.monotonic()
    ack = bot.command("cleanup-test-data env=staging days=7")
    assert time.monotonic() - started < 3, "Slack needs its answer within 3 s"
    assert ack.text == ""  # nothing ephemeral: the channel gets the message

    # Live output while it runs: the reply shows lines before the script is done.
    [running] = wait_until(lambda: bot.runs("cleanup-test-data"), what="the run")
    def shows_lines() -> bool:
        run = bot.services.runs.get(running.id)
        if run is None or run.slack_reply_ts is None:
            return False
        return "line 60" in bot.fake.final_message(OPS, run.slack_reply_ts).blocks[1][
            "text"]["text"]
    wait_until(shows_lines, what="the reply to show the output so far")
    (bot.directory / "hold").unlink()

    run = bot.finished_run("cleanup-test-data")
    assert (run.status, run.exit_code, run.user_id) == ("succeeded", 0, "U0ANA")
    reply = bot.reply_message(run)
    parent = bot.fake.final_message(OPS, run.slack_ts)
    assert parent.history[0].text == "<@U0ANA> ran `cleanup-test-data env=staging days=7`"
    assert parent.text.startswith("<@U0ANA> ran `cleanup-test-data env=staging days=7` · "
                                  ":white_check_mark: Succeeded (exit 0) in ")
    assert [m.ts for m in bot.fake.thread(OPS, run.slack_ts)] == [run.slack_ts,
                                                                   run.slack_reply_ts]
    assert reply.text.startswith(":white_check_mark: Succeeded (exit 0) in ")
    lines = "".join(f"line {i}\n" for i in range(1, 61))
    assert reply.blocks[1]["text"]["text"] == (
        f"```\ncleaning staging older than 7 days\n{lines}run {run.id} by U0ANA done\n```")
    assert button_value(reply, RunbookAction.RUN_AGAIN) == {
        "run": run.id, "args": {"env": "staging", "days": "7"}}
    assert any("line" in json.dumps(v.blocks) and "done" not in json.dumps(v.blocks)
               for v in reply.history[1:-1])

    # 60 lines in 1.5 s, yet the reply was edited at most once per interval.
    edits = [c for c in bot.fake.calls("chat.update")
             if c.ok and c.params.get("ts") == run.slack_reply_ts]
    assert len(edits) == reply.updates
    seconds = (run.finished_at - run.started_at).total_seconds()
    assert 2 <= reply.updates <= seconds / INTERVAL + 2, reply.updates
    gaps = [b.monotonic - a.monotonic for a, b in itertools.pairwise(edits)]
    assert min(gaps) >= INTERVAL / 2, gaps  # arrival times: loose, the machine may be busy
    assert bot.fake.post_rate_violations(min_interval=0.9) == []  # arrival times, as above

    [api] = bot.api_runs(limit=5)
    assert api["user"] == "U0ANA" and api["command"] == "cleanup-test-data"
    assert api["args"] == {"env": "staging", "days": "7"}
    assert (api["channel"], api["channel_name"], api["status"], api["exit_code"]) == (
        OPS, "ops", "succeeded", 0)
    assert api["output_tail"].startswith("cleaning staging older than 7 days\nline 1\n")
    assert api["started_at"] <= api["finished_at"]
    assert api["slack"] == {"channel": OPS, "ts": run.slack_ts, "reply_ts": run.slack_reply_ts}


@pytest.mark.sqlite_only
def test_slack_refusing_edits_for_a_while_delays_them_without_losing_the_end(bot: Bot) -> None:
    bot.fake.fail_next("chat.update", times=2, status=429, retry_after=1)
    bot.command("cleanup-test-data")
    run = bot.finished_run("cleanup-test-data")
    reply = bot.reply_message(run)
    assert reply.text.startswith(":white_check_mark: Succeeded")
    assert [c.status for c in bot.fake.calls("chat.update") if c.fault] == [429, 429]


@pytest.mark.sqlite_only
def test_arguments_arrive_as_typed_whatever_they_hold(bot: Bot) -> None:
    bot.command("""probe 'two words; rm -rf / $(touch pwned) `id`' 3""")
    run = bot.finished_run("probe")
    assert run.status == "succeeded"
    argv = json.loads((bot.directory / "probe.json").read_text())
    assert argv == ["two words; rm -rf / $(touch pwned) `id`", "3"]
    assert not (bot.directory / "pwned").exists()
    assert run.args == {"text": "two words; rm -rf / $(touch pwned) `id`", "count": "3"}


@pytest.mark.sqlite_only
def test_help_lists_the_built_ins_and_only_the_runbooks_you_may_run(bot: Bot) -> None:
    ana = bot.reply("help")["text"]
    assert "• `/devex subscribe owner/repo" in ana and "• `/devex history [command]`" in ana
    assert ("• `/devex cleanup-test-data [env=test|staging] [days=1..90]` — Delete test "
            "fixtures older than N days") in ana
    assert "`/devex mark`" in ana
    carol = bot.reply("help", user="U0CAROL")["text"]  # in @ops: cleanup, not mark
    assert "cleanup-test-data" in carol and "`/devex mark`" not in carol
    mallory = bot.reply("help", user="U0MALLORY")["text"]
    assert "cleanup-test-data" not in mallory and "/devex subscribe" in mallory
    usage = bot.reply("help cleanup-test-data")["text"]
    assert usage.startswith("`/devex cleanup-test-data [env=test|staging] [days=1..90]` — ")
    assert "• `days`: 1..90 (default `7`)" in usage
    assert "one run at a time" in usage
    assert bot.reply("help mark", user="U0MALLORY")["text"].startswith("I don't know `mark`")


@pytest.mark.sqlite_only
def test_refusals_are_answered_privately_and_audited(bot: Bot) -> None:
    refused = bot.reply("mark", user="U0MALLORY")
    assert refused["text"].startswith("You may not run `mark`")
    wrong_place = bot.reply("mark", channel="C0RANDOM", channel_name="random")
    assert wrong_place["text"] == "`mark` runs only in #ops."
    assert bot.services.runner is not None and bot.services.runner.running() == []
    assert not (bot.directory / "ran-marker").exists()
    assert bot.fake.calls("chat.postMessage") == []
    assert [(r.user_id, r.status, r.reason, r.channel) for r in bot.runs("mark")] == [
        ("U0ANA", "refused", "wrong channel", "C0RANDOM"),
        ("U0MALLORY", "refused", "not allowed", OPS)]
    assert [r["status"] for r in bot.api_runs(command="mark")] == ["refused", "refused"]
    # From the right channel, by name, it runs.
    assert bot.command("mark").text == ""
    # The third run of `mark`: the two refusals are finished runs already.
    assert bot.finished_run("mark", count=3).status == "succeeded"
    assert (bot.directory / "ran-marker").exists()


@pytest.mark.parametrize(("text", "expected"), [
    ("cleanup-test-data days=500", "`days` must be a whole number from 1 to 90, not 500"),
    ("cleanup-test-data env=prod", "`env` must be one of test, staging, not `prod`"),
    ("cleanup-test-data region=eu", "`cleanup-test-data` has no parameter `region`; "
                                    "valid: `env`, `days`"),
    ('cleanup-test-data "env=staging', "Quote values with spaces"),
])
@pytest.mark.sqlite_only
def test_bad_arguments_are_explained_and_nothing_runs(bot: Bot, text: str, expected: str
                                                       ) -> None:
    answer = bot.reply(text)["text"]
    assert expected in answer
    assert bot.runs() == []


@pytest.mark.sqlite_only
def test_secrets_and_patterns_never_reach_slack_or_the_database(bot: Bot) -> None:
    bot.command("leak token=tok-12345-secret")
    run = bot.finished_run("leak")
    reply = bot.reply_message(run)
    seen = json.dumps([[v.text, v.blocks] for v in reply.history]) + json.dumps(
        [v.text for v in bot.fake.final_message(OPS, run.slack_ts).history])
    stored = json.dumps(bot.api_runs())
    for secret in ("hunter2-db-password", "AKIAABCDEFGHIJKLMNOP", "tok-12345-secret"):
        assert secret not in seen and secret not in stored
    assert run.output_tail == ("password=[redacted]\nkey [redacted] in a log line\n"
                               "token=[redacted]\n")
    assert run.args == {"token": "[redacted]"}
    assert "`leak token=[redacted]`" in bot.fake.final_message(OPS, run.slack_ts).text
    # A secret parameter is never put in a button: Run again asks for it.
    assert button_value(reply, RunbookAction.RUN_AGAIN) == {"run": run.id, "args": {}}


@pytest.mark.sqlite_only
def test_a_timeout_is_reported_in_the_thread(bot: Bot) -> None:
    bot.command("nap")
    run = bot.finished_run("nap")
    assert run.status == "timed_out" and run.reason == "stopped after 1 s (timeout)"
    reply = bot.reply_message(run)
    assert reply.text.startswith(":alarm_clock: Timed out")
    assert "about to sleep" in reply.blocks[1]["text"]["text"]


@pytest.mark.sqlite_only
def test_history_lists_recent_runs(bot: Bot) -> None:
    assert bot.reply("history")["text"] == "No runs yet."
    bot.command("cleanup-test-data days=3")
    bot.finished_run("cleanup-test-data")
    bot.reply("mark", user="U0MALLORY")
    history = bot.reply("history")["text"]
    lines = history.splitlines()
    assert lines[0] == "Last runs:"
    assert lines[1].startswith(":no_entry: `mark` — <@U0MALLORY>, just now · refused: not allowed")
    assert lines[2].startswith(":white_check_mark: `cleanup-test-data env=test days=3` — "
                               "<@U0ANA>, ")
    assert "· succeeded (exit 0) in " in lines[2]
    # Someone who may run neither sees their own runs only.
    assert bot.reply("history", user="U0MALLORY")["text"].count("\n") == 1
    only = bot.reply("history cleanup-test-data")["text"]
    assert only.startswith("Last runs of `cleanup-test-data`:") and "`mark`" not in only
    assert bot.reply("history nope")["text"].startswith("There is no runbook `nope`")


@pytest.mark.sqlite_only
def test_api_runs_lists_newest_first_with_a_limit(bot: Bot) -> None:
    for days in (1, 2, 3):
        bot.reply(f"cleanup-test-data days={days}", user="U0MALLORY")
    runs = bot.api_runs(limit=2)
    assert [r["args"]["days"] for r in runs] == ["3", "2"]
    assert bot.client.get("/api/runs", params={"limit": 0}).status_code == 422


@pytest.mark.sqlite_only
def test_slack_being_down_does_not_stop_a_run(bot: Bot) -> None:
    bot.fake.fail_next("chat.postMessage", times=1, status=500, error="fatal_error")
    bot.command("mark")
    run = bot.finished_run("mark")
    assert run.status == "succeeded" and run.slack_ts is None
    wait_until(lambda: (bot.directory / "ran-marker").exists(), what="the script to run")
