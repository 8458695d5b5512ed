"""The delivery metrics of a repository's environment over a period: the rows that matter
read by repo, environment and time (indexed), handed to `delivery_figures`.

The Prometheus gauges read the same over the config's default period for every repository
that deployed to production in it, at most once per `GAUGE_TTL`: a scrape never scans.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from correlation.card import iso
from correlation.delivery_metrics import Deploy, Figures, ShippedCommit, Signal, delivery_figures
from devexbot.config.metrics import MetricsSettings
from devexbot.store import ChangeSignal, Database, DeployRecord, EnvironmentState
from devexbot.store import ShippedCommit as ShippedRow

GAUGE_TTL = timedelta(minutes=5)
RESTORE_REACH = timedelta(days=30)  # how far past the period a restore is looked for
MAX_REPOS = 200  # repositories one answer covers


@dataclass(frozen=True)
class Report:
    """One repository's environment: its figures and what links them to the world."""

    repo: str
    environment: str
    figures: Figures
    urls: dict[int, str | None] = field(default_factory=dict)  # deploy id → its URL
    titles: dict[str, str | None] = field(default_factory=dict)  # sha → message title

    def card(self, sha: str) -> str:
        return f"/cards/{self.repo}/{sha}"

    def deploy_json(self, deploy: Deploy) -> dict[str, Any]:
        return {"id": deploy.id, "sha": deploy.sha, "at": iso(deploy.at),
                "succeeded": deploy.succeeded, "rollback": deploy.rollback,
                "url": self.urls.get(deploy.id), "card": self.card(deploy.sha)}

    def to_json(self) -> dict[str, Any]:
        f = self.figures
        return {
            "repo": self.repo, "environment": self.environment,
            "deployment_frequency": {
                "deployments": f.deployments, "per_week": round(f.per_week, 3),
                "deploys": [self.deploy_json(d) for d in f.deploys]},
            "lead_time": {
                "median_hours": _hours(f.lead_time),
                "commits": [{"sha": lt.sha, "title": self.titles.get(lt.sha),
                             "first_seen": iso(lt.first_seen), "deployed_at": iso(lt.deployed_at),
                             "hours": _hours(lt.duration), "deploy": lt.deploy_id,
                             "card": self.card(lt.sha)} for lt in f.lead_times]},
            "change_failure_rate": {
                "rate": _rate(f.change_failure_rate),
                "failures": [{"deploy": self.deploy_json(x.deploy), "signal": x.kind,
                              "ref": x.ref, "at": iso(x.at),
                              "restored_by": None if x.restored_by is None
                              else self.deploy_json(x.restored_by),
                              "restore_hours": _hours(x.restore)} for x in f.failures]},
            "time_to_restore": {"median_hours": _hours(f.time_to_restore),
                                "unrestored": f.unrestored},
            "weeks": [{"start": iso(w.start), "deployments": w.deployments,
                       "lead_time_hours": _hours(w.lead_time),
                       "change_failure_rate": _rate(w.change_failure_rate),
                       "time_to_restore_hours": _hours(w.time_to_restore)} for w in f.weeks],
        }


class DeliveryMetrics:
    def __init__(self, db: Database, settings: MetricsSettings, *,
                 clock: Callable[[], datetime]) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        self._gauges: tuple[datetime, list[Report]] | None = None
        self._lock = threading.Lock()

    def period(self, period: timedelta | None = None) -> tuple[datetime, datetime]:
        """[now - period, now), the config's period by default."""
        until = self.clock()
        return until - (period or self.settings.period), until

    def reports(self, *, repo: str | None, environment: str | None, since: datetime,
                until: datetime) -> list[Report]:
        """One report per repository (`repo`, or each that deployed there in the period);
        `environment` None: the production environments."""
        keys = ((environment.casefold()[:100],) if environment
                else self.settings.production_keys)
        with self.db.read() as session:
            repos = [repo.lower()] if repo else list(session.scalars(
                select(DeployRecord.repo).distinct()
                .where(DeployRecord.at >= since, DeployRecord.at < until,
                       DeployRecord.env_key.in_(keys))
                .order_by(DeployRecord.repo).limit(MAX_REPOS)))
            return [self._report(session, name, keys, environment, since, until)
                    for name in repos]

    def _report(self, session: Any, repo: str, keys: Sequence[str], environment: str | None,
                since: datetime, until: datetime) -> Report:
        window = self.settings.failure_window
        rows = session.execute(
            select(DeployRecord.id, DeployRecord.sha, DeployRecord.at, DeployRecord.succeeded,
                   DeployRecord.rollback, DeployRecord.url, DeployRecord.environment)
            .where(DeployRecord.repo == repo, DeployRecord.env_key.in_(keys),
                   DeployRecord.at >= since, DeployRecord.at < until + window + RESTORE_REACH)
            .order_by(DeployRecord.at, DeployRecord.id)).all()
        shipped = session.execute(
            select(ShippedRow.sha, ShippedRow.first_seen, ShippedRow.deployed_at,
                   ShippedRow.deploy_id, ShippedRow.title)
            .where(ShippedRow.repo == repo, ShippedRow.env_key.in_(keys),
                   ShippedRow.deployed_at >= since, ShippedRow.deployed_at < until)).all()
        signals = session.execute(
            select(ChangeSignal.kind, ChangeSignal.ref, ChangeSignal.at, ChangeSignal.reverts_sha,
                   ChangeSignal.reverts_title)
            .where(ChangeSignal.repo == repo, ChangeSignal.at >= since,
                   ChangeSignal.at <= until + window)).all()
        figures = delivery_figures(
            since=since, until=until, window=window,
            deploys=[Deploy(r.id, r.sha, r.at, succeeded=r.succeeded, rollback=r.rollback)
                     for r in rows],
            shipped=[ShippedCommit(s.sha, s.first_seen, s.deployed_at, s.deploy_id, s.title)
                     for s in shipped],
            signals=[Signal(s.kind, s.ref, s.at, s.reverts_sha, s.reverts_title)
                     for s in signals])
        named = environment or next((r.environment for r in rows), None) \
            or self.settings.production[0]
        return Report(repo, named, figures, urls={r.id: r.url for r in rows},
                      titles={s.sha: s.title for s in shipped})

    def known(self) -> tuple[list[str], list[str]]:
        """The repositories and environments with a live commit (for pickers): from the
        small `environment_state`, not the deploys."""
        with self.db.read() as session:
            rows = session.execute(select(EnvironmentState.repo, EnvironmentState.environment)
                                   .limit(2000)).all()
        names: dict[str, str] = {}
        for name in [*self.settings.production, *sorted({env for _, env in rows})]:
            names.setdefault(name.casefold(), name)
        return sorted({repo for repo, _ in rows}), list(names.values())

    def gauges(self) -> list[Report]:
        """Every repository's production figures over the default period; read again at
        most once per GAUGE_TTL."""
        now = self.clock()
        with self._lock:
            if self._gauges is not None and now - self._gauges[0] < GAUGE_TTL:
                return self._gauges[1]
            since, until = self.period()
            found = self.reports(repo=None, environment=None, since=since, until=until)
            self._gauges = (now, found)
            return found


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value / timedelta(hours=1), 3)


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
