"""`/metrics` for catch-up, read from the database at scrape time (only the leader runs
catch-up, so every replica reports the same truth)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from devexbot.store.catchup import CatchUpLedger

log = logging.getLogger(__name__)


class CatchUpMetrics(Collector):
    """Per hook: when catch-up last ran and last paged back to its position, how many
    redeliveries it asked for and how many of them arrived."""

    def __init__(self, ledger: CatchUpLedger) -> None:
        self._ledger = ledger

    def describe(self) -> list[Metric]:
        return list(self._families().values())

    def collect(self) -> Iterator[Metric]:
        families = self._families()
        try:
            statuses = self._ledger.statuses()
        except Exception as exc:  # a scrape must answer even when the database does not
            log.warning("catch-up metrics unknown: %s", type(exc).__name__)
            return
        for s in statuses:
            if s.last_run_at is not None:
                families["run"].add_metric([s.hook], s.last_run_at.timestamp())
            if s.last_complete_at is not None:
                families["complete"].add_metric([s.hook], s.last_complete_at.timestamp())
            families["asked"].add_metric([s.hook], s.asked)
            families["recovered"].add_metric([s.hook], s.recovered)
        yield from families.values()

    @staticmethod
    def _families() -> dict[str, GaugeMetricFamily]:
        return {
            "run": GaugeMetricFamily(
                "devexbot_catchup_last_run_timestamp_seconds",
                "When catch-up last read the hook's delivery log", labels=["hook"]),
            "complete": GaugeMetricFamily(
                "devexbot_catchup_last_complete_timestamp_seconds",
                "When catch-up last paged the hook's log back to its stored position",
                labels=["hook"]),
            "asked": GaugeMetricFamily(
                "devexbot_catchup_asked", "Redeliveries catch-up asked GitHub for",
                labels=["hook"]),
            "recovered": GaugeMetricFamily(
                "devexbot_catchup_recovered",
                "Deliveries that arrived because catch-up asked for them", labels=["hook"]),
        }
