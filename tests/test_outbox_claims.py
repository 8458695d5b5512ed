"""A flusher that dies holding a card's claim does not hold up that card for the lease: the
next start on the same host frees claims of dead processes, and only those."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select, update

from devexbot.store import Card
from devexbot.store.replica import died_here, replica_name
from tests.bot import TestBot
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import load_fixture


def finished_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_died_here_tells_dead_processes_on_this_host_from_live_and_remote_ones() -> None:
    host = socket.gethostname()
    assert died_here(f"{host}:{finished_pid()}")
    assert died_here(replica_name())  # an earlier run of this very process
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as alive:
        try:
            assert not died_here(f"{host}:{alive.pid}")
        finally:
            alive.kill()
    assert not died_here(f"elsewhere-{host}:{finished_pid()}")  # cannot know: lease runs
    assert not died_here(f"{host}:not-a-pid")


def test_a_restart_frees_claims_left_by_a_dead_flusher_and_keeps_live_ones(
    bot: TestBot, slack: FakeSlack
) -> None:
    shas = ["1" * 40, "2" * 40, "3" * 40]
    for sha in shas:
        payload = load_fixture("check_run.completed")
        payload["check_run"]["head_sha"] = sha
        bot.deliver("check_run", payload)
    host = socket.gethostname()
    owners = {shas[0]: f"{host}:{finished_pid()}",  # died holding it
              shas[1]: f"another-host-{host}:{os.getpid()}",  # may be alive: keep
              shas[2]: f"{host}:{os.getppid()}"}  # alive on this host: keep
    until = bot.clock.now() + timedelta(seconds=60)
    with bot.services.db.write() as session:
        for sha, owner in owners.items():
            session.execute(update(Card).where(Card.sha == sha).values(
                claimed_until=until, claim_token=sha[:32], claim_owner=owner))

    outbox = bot.services.outbox
    assert outbox is not None
    assert outbox.release_abandoned_claims() == 1
    with bot.services.db.read() as session:
        held = dict(session.execute(select(Card.sha, Card.claim_owner)).all())
    assert held == {shas[0]: None, shas[1]: owners[shas[1]], shas[2]: owners[shas[2]]}
    bot.clock.advance(timedelta(seconds=5))  # past the coalescing window, well within the lease
    bot.flush()
    # The freed card went out at once; the two still held wait for their lease.
    assert [c.params["metadata"]["event_payload"]["sha"]
            for c in slack.calls("chat.postMessage") if c.ok] == [shas[0]]
