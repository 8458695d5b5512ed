"""`/delivery`: the delivery metrics (DORA's four keys) of each repository's environment,
with a weekly chart per figure, the change from the week before, and the deploys, commits
and failures behind each figure. Server-rendered; readable without script, on a phone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from markupsafe import Markup

from correlation.delivery_metrics import Week, parse_period
from devexbot.delivery.metrics import DeliveryMetrics, Report
from devexbot.delivery.scope import DeliveryMetricsDep, metrics_scope
from devexbot.delivery.words import duration_text, per_week_text, rate_text
from devexbot.errors import RequestError
from devexbot.web.charts import week_bars
from devexbot.web.workspace import WorkspaceDep

router = APIRouter(include_in_schema=False)

PERIODS = ("7d", "30d", "12w", "26w")
MAX_WEEKS = 13  # bars a chart shows (the latest weeks)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Tile:
    anchor: str
    title: str
    figure: str
    detail: str
    chart: Markup
    trend: str


@router.get("/delivery")
async def delivery_page(
    request: Request, workspace: WorkspaceDep, delivery: DeliveryMetricsDep,
    repo: str | None = None, env: str | None = None, since: str | None = None,
    until: str | None = None, period: Annotated[str | None, Query()] = None,
) -> Response:
    """The figures of the period (`period` back from now, or `since`..`until`)."""
    viewer = workspace.require_viewer(request)
    context: dict[str, Any] = {"viewer": viewer, "repo": repo or "", "env": env or "",
                               "period": period or "", "periods": PERIODS,
                               "since": since or "", "until": until or ""}
    try:
        if period and not since:
            since_at, until_at = delivery.period(_period(period))
            since = since_at.isoformat()
            until = until or until_at.isoformat()
        scope = metrics_scope(delivery, repo=repo, env=env, since=since, until=until)
    except RequestError as exc:
        return workspace.page(request, "delivery.html", {**context, "error": str(exc)},
                              status_code=exc.status_code)
    reports, (repos, envs) = await run_in_threadpool(_load, delivery, scope)
    return workspace.page(request, "delivery.html", {
        **context, "error": None, "repos": repos, "envs": envs,
        "period_since": scope["since"], "period_until": scope["until"],
        "window": duration_text(delivery.settings.failure_window),
        "reports": [(report, tiles(report, i)) for i, report in enumerate(reports)],
        "hours": _hours, "duration": duration_text,
    })


def _period(text: str) -> timedelta:
    try:
        return parse_period(text)
    except ValueError as exc:
        raise RequestError(400, str(exc)) from None


def _load(delivery: DeliveryMetrics, scope: dict[str, Any]
          ) -> tuple[list[Report], tuple[list[str], list[str]]]:
    return delivery.reports(**scope), delivery.known()


def tiles(report: Report, index: int) -> list[Tile]:
    """The four figures of one report, each with its weekly chart and trend."""
    f = report.figures
    weeks = list(f.weeks[-MAX_WEEKS:])
    labels = [f"{w.start:%d %b}" for w in weeks]

    def chart(values: Sequence[float | None], shown: list[str], title: str, tone: str
              ) -> Markup:
        return week_bars(values, labels, shown=shown, title=title, tone=tone)

    counts = [float(w.deployments) for w in weeks]
    leads = [_hours(w.lead_time) for w in weeks]
    rates = [w.change_failure_rate for w in weeks]
    restores = [_hours(w.time_to_restore) for w in weeks]
    return [
        Tile(f"deploys-{index}", "Deployment frequency", per_week_text(f.per_week),
             f"{f.deployments} deploys",
             chart(counts, [f"{w.deployments}" for w in weeks], "Deploys a week", "deploys"),
             _trend(weeks, lambda w: float(w.deployments), lambda d: f"{d:+.0f} deploys")),
        Tile(f"commits-{index}", "Lead time for changes",
             f"median {duration_text(f.lead_time)}", f"{len(f.lead_times)} commits",
             chart(leads, [duration_text(w.lead_time) for w in weeks],
                   "Median lead time a week", "lead"),
             _trend(weeks, lambda w: _hours(w.lead_time),
                    lambda d: f"{'+' if d >= 0 else '-'}{duration_text(abs(d) * HOUR)}")),
        Tile(f"failures-{index}", "Change failure rate", rate_text(f.change_failure_rate),
             f"{len(f.failures)} of {f.deployments} deploys",
             chart(rates, [rate_text(w.change_failure_rate) for w in weeks],
                   "Change failure rate a week", "failures"),
             _trend(weeks, lambda w: w.change_failure_rate,
                    lambda d: f"{d * 100:+.0f} points")),
        Tile(f"restores-{index}", "Time to restore", f"median {duration_text(f.time_to_restore)}",
             f"{f.unrestored} not restored" if f.unrestored else
             f"{len(f.failures)} failures restored",
             chart(restores, [duration_text(w.time_to_restore) for w in weeks],
                   "Median time to restore a week", "restore"),
             _trend(weeks, lambda w: _hours(w.time_to_restore),
                    lambda d: f"{'+' if d >= 0 else '-'}{duration_text(abs(d) * HOUR)}")),
    ]


def _trend(weeks: list[Week], value: Any, words: Any) -> str:
    """The last week against the one before it, when both have a value."""
    if len(weeks) < 2:
        return "no week before to compare with"
    last, before = value(weeks[-1]), value(weeks[-2])
    if last is None or before is None:
        return "no change to tell (a week without any)"
    if last == before:
        return "as the week before"
    return f"{words(last - before)} on the week before"


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else value / HOUR

