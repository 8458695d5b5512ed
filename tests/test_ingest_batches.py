"""Deliveries that arrive together are written together (group commit), and still each get
their own answer: a duplicate is a duplicate, a bad one fails alone, nothing is half-written."""

from __future__ import annotations

import json
import random
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event
from sqlalchemy import select

from correlation import Event, Status
from devexbot.store import Delivery
from devexbot.store.group_commit import GroupCommit
from devexbot.store.ingest import Ingest, IngestResult
from devexbot.wiring import Services
from tests.conftest import GITHUB_SECRET
from tests.db_counts import row_counts
from tests.github_sender import github_headers
from tests.scenario import EXPECTED_CARD, HEAD, REPO, commit_stream

AT = datetime(2026, 11, 20, 10, tzinfo=UTC)


def check(name: str, sha: str = HEAD, **data: Any) -> Event:
    return Event(REPO, sha, "github", "check", name, AT, Status.SUCCESS, {"url": "u", **data})


def test_concurrent_deliveries_share_transactions_and_fold_to_the_same_card(
    client: TestClient, services: Services
) -> None:
    rnd = random.Random(7)
    deliveries = [(str(uuid.uuid4()), event, payload) for event, payload in commit_stream()]
    stream = deliveries * 3  # every delivery three times, from different senders at once
    rnd.shuffle(stream)
    commits = 0

    def count(_conn: Any) -> None:
        nonlocal commits
        commits += 1

    sa_event.listen(services.db.engine, "commit", count)
    try:
        def send(item: tuple[str, str, dict[str, Any]]) -> tuple[str, int]:
            delivery_id, event, payload = item
            body = json.dumps(payload).encode()
            headers = github_headers(event, body, secret=GITHUB_SECRET, delivery_id=delivery_id)
            return delivery_id, client.post("/webhooks/github", content=body,
                                            headers=headers).status_code

        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(send, stream))
    finally:
        sa_event.remove(services.db.engine, "commit", count)

    for delivery_id, _, _ in deliveries:
        codes = sorted(code for d, code in answers if d == delivery_id)
        assert codes == [200, 200, 202], (delivery_id, codes)  # stored once, twice a duplicate
    assert client.get(f"/api/cards/{REPO}/{HEAD}").json() == {
        **EXPECTED_CARD, "slack": None, "slack_messages": []}
    with services.db.read() as session:
        stored = session.scalars(select(Delivery.delivery_id).where(
            Delivery.source == "github")).all()
    assert sorted(stored) == sorted(d for d, _, _ in deliveries)
    # Fewer transactions than deliveries: deliveries that queued up were written together.
    assert commits < len(stream)


def test_in_a_batch_a_duplicate_is_a_duplicate_and_a_bad_delivery_fails_alone(
    services: Services
) -> None:
    release, holding = threading.Event(), threading.Event()

    def hold_the_first(*_: Any) -> None:
        if not holding.is_set():
            holding.set()
            assert release.wait(10)

    ingest = Ingest(services.db, rules=services.ingest.rules, hooks=[hold_the_first])
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(ingest.record, source="github", delivery_id="first",
                            event_type="check_run", events=[check("build")])
        assert holding.wait(10)  # the writer is inside the first delivery's transaction
        def submit(delivery_id: str, *events: Event) -> Future[IngestResult]:
            return pool.submit(ingest.record, source="github", delivery_id=delivery_id,
                               event_type="check_run", events=list(events))

        second = submit("second", check("lint"))
        second_again = submit("second", check("lint"))  # the same delivery, same batch
        bad = submit("bad", check("test", sha="b" * 40, x=object()))  # cannot be stored
        first_again = submit("first", check("build"))  # a redelivery of the one in flight
        release.set()
        assert first.result(10).outcome == "stored"
        assert sorted([second.result(10).outcome, second_again.result(10).outcome]) == [
            "duplicate", "stored"]
        assert first_again.result(10).outcome == "duplicate"
        with pytest.raises(Exception):
            bad.result(10)
    assert row_counts(services.db) == {"deliveries": 2, "events": 2, "cards": 1}


def test_group_commit_hands_each_caller_its_own_result_and_ends_its_thread_when_idle() -> None:
    batches: list[list[int]] = []
    gate = threading.Event()

    def work(items: Any) -> list[int]:
        gate.wait(5)
        if 13 in items and len(items) > 1:
            raise ValueError("unlucky batch")
        if items == [13]:
            raise ValueError("unlucky")
        batches.append(list(items))
        return [i * 10 for i in items]

    writer: GroupCommit[int, int] = GroupCommit(work, idle_seconds=0.2)
    futures = [writer.submit(i) for i in range(20, 40)]
    gate.set()
    assert [f.result(5) for f in futures] == [i * 10 for i in range(20, 40)]
    assert len(batches) < 20  # what queued meanwhile went as one batch

    batches.clear()
    futures = [writer.submit(i) for i in (12, 13, 14)]
    assert futures[0].result(5) == 120 and futures[2].result(5) == 140
    with pytest.raises(ValueError, match="unlucky"):
        futures[1].result(5)

    thread = writer._thread
    assert thread is not None
    thread.join(5)
    assert not thread.is_alive() and writer._thread is None  # idle: gone
    assert writer.submit(3).result(5) == 30  # and back on the next item
