"""Prometheus metrics, in a registry of each app's own (tests build many apps in one process).

Counters are incremented where things happen (webhook receivers, the Slack client); the
outbox lag is read from the database when Prometheus scrapes, so every replica reports the
same truth.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
INGEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Every metric the bot exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.deliveries = Counter(
            "devexbot_webhook_deliveries", "Webhook deliveries by source and result "
            "(stored, ignored, unparsed, unattached, duplicate, or the refusal)",
            ["source", "result"], registry=r)
        self.ingest_seconds = Histogram(
            "devexbot_ingest_seconds", "Time to verify, store and answer one webhook delivery",
            ["source"], buckets=INGEST_BUCKETS, registry=r)
        self.slack_calls = Counter(
            "devexbot_slack_calls", "Slack Web API calls by method and result (ok, or the error)",
            ["method", "result"], registry=r)
        self.slack_rate_limited = Counter(
            "devexbot_slack_rate_limited", "Slack Web API calls answered 429", ["method"],
            registry=r)
        self.actions = Counter(
            "devexbot_actions", "Card button actions by action and result",
            ["action", "result"], registry=r)
        self.runbook_runs = Counter(
            "devexbot_runbook_runs", "Runbook command runs by command and result",
            ["command", "result"], registry=r)
        self.web_streams = Gauge(
            "devexbot_web_streams", "Open live-update streams of the web workspace", registry=r)

    def watch_outbox(self, oldest_dirty: Callable[[], datetime | None],
                     clock: Callable[[], datetime]) -> None:
        """Report the outbox lag (age of the oldest card Slack does not show yet) at scrape."""
        self.registry.register(_OutboxLag(oldest_dirty, clock))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _OutboxLag(Collector):
    def __init__(self, oldest_dirty: Callable[[], datetime | None],
                 clock: Callable[[], datetime]) -> None:
        self.oldest_dirty, self.clock = oldest_dirty, clock

    def describe(self) -> list[Metric]:
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        try:
            since = self.oldest_dirty()
        except Exception as exc:  # a scrape must answer even when the database does not
            log.warning("outbox lag unknown: %s", type(exc).__name__)
            return
        lag = (self.clock() - since).total_seconds() if since else 0.0
        family.add_metric([], max(lag, 0.0))
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "devexbot_outbox_lag_seconds",
            "Age of the oldest card whose Slack message is not up to date (0: none)")
