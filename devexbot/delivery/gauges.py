"""The delivery metrics as Prometheus gauges, per repository and production environment,
over the config's period; read through `DeliveryMetrics.gauges` (cached), so a scrape
costs at most one indexed read every few minutes."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from devexbot.delivery.metrics import DeliveryMetrics

log = logging.getLogger(__name__)

LABELS = ["repo", "env"]


class DeliveryGauges(Collector):
    def __init__(self, delivery: DeliveryMetrics) -> None:
        self.delivery = delivery

    def describe(self) -> list[Metric]:
        return list(_families().values())

    def collect(self) -> Iterator[Metric]:
        try:
            reports = self.delivery.gauges()
        except Exception as exc:  # a scrape must answer even when the database does not
            log.warning("delivery metrics unknown: %s", type(exc).__name__)
            return
        families = _families()
        for report in reports:
            f, labels = report.figures, [report.repo, report.environment]
            families["deployments"].add_metric(labels, f.deployments)
            families["frequency"].add_metric(labels, f.per_week)
            if f.lead_time is not None:
                families["lead"].add_metric(labels, f.lead_time.total_seconds())
            if f.change_failure_rate is not None:
                families["failure"].add_metric(labels, f.change_failure_rate)
            if f.time_to_restore is not None:
                families["restore"].add_metric(labels, f.time_to_restore.total_seconds())
        yield from families.values()


def _families() -> dict[str, GaugeMetricFamily]:
    return {
        "deployments": GaugeMetricFamily(
            "devexbot_dora_deployments", "Successful deploys to production in the "
            "metrics period (metrics.period)", labels=LABELS),
        "frequency": GaugeMetricFamily(
            "devexbot_dora_deployment_frequency", "Successful deploys to production per "
            "week, over the metrics period", labels=LABELS),
        "lead": GaugeMetricFamily(
            "devexbot_dora_lead_time_seconds", "Median time from a commit's first "
            "appearance to its first deploy to production, over the metrics period",
            labels=LABELS),
        "failure": GaugeMetricFamily(
            "devexbot_dora_change_failure_rate", "Share of deploys to production that a "
            "failure followed within metrics.failure_window", labels=LABELS),
        "restore": GaugeMetricFamily(
            "devexbot_dora_time_to_restore_seconds", "Median time from a failure to the "
            "next good deploy, over the metrics period", labels=LABELS),
    }
