"""`/devex metrics [owner/repo] [environment] [period]`: the delivery metrics (DORA's four
keys) of the last `period` (7d, 30d, 12w; the config's by default), only to the caller."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from correlation.delivery_metrics import parse_period
from correlation.mrkdwn import escape, link
from devexbot.delivery.metrics import DeliveryMetrics, Report
from devexbot.delivery.words import duration_text, per_week_text, rate_text
from handlers.slack.commands import CommandGroup, Invocation, Reply, Subcommand

REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
PERIOD_LIKE = re.compile(r"^\d+[A-Za-z]$")
USAGE = "Usage: `/devex metrics [owner/repo] [environment] [period]`, e.g. " \
        "`/devex metrics octo-org/app production 30d`"
MAX_REPOS = 20  # two blocks each, within Slack's 50
MAX_WEEKS = 6


class DeliveryCommands(CommandGroup):
    """`/devex metrics`; `public_url` links to the `/delivery` page when the bot has one."""

    def __init__(self, delivery: DeliveryMetrics, public_url: str | None = None) -> None:
        self._delivery, self._public_url = delivery, (public_url or "").rstrip("/") or None

    def subcommands(self) -> Sequence[Subcommand]:
        return (Subcommand("metrics", "metrics [owner/repo] [environment] [period]",
                           "deployment frequency, lead time, change failure rate and time "
                           "to restore", self.metrics),)

    def metrics(self, inv: Invocation) -> Reply:
        repo = env = None
        period: timedelta | None = None
        for word in inv.words:
            if REPO.match(word) and repo is None:
                repo = word.lower()
            elif PERIOD_LIKE.match(word) and period is None:
                try:
                    period = parse_period(word)
                except ValueError as exc:
                    return Reply(f"{exc}. {USAGE}")
            elif env is None and len(word) <= 100:
                env = word
            else:
                return Reply(f"I don't understand `{escape(word[:60])}`. {USAGE}")
        if repo is None:  # every repository: may take longer than Slack's 3 seconds
            return Reply("Working out the delivery metrics of every repository…",
                         later=lambda: self._answer(repo, env, period))
        return self._answer(repo, env, period)

    def _answer(self, repo: str | None, env: str | None, period: timedelta | None) -> Reply:
        since, until = self._delivery.period(period)
        reports = self._delivery.reports(repo=repo, environment=env, since=since, until=until)
        days = round((until - since) / timedelta(days=1))
        where = escape(env or "/".join(self._delivery.settings.production))
        title = f"Delivery metrics, {where}, last {days} days"
        if not any(r.figures.deployments or r.figures.failures for r in reports):
            return Reply(f"{title}: no deploy of {escape(repo or 'any repository')} "
                         "ended there in that period, as far as I know.")
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}}]
        for report in reports[:MAX_REPOS]:
            blocks += self._report_blocks(report)
        if len(reports) > MAX_REPOS:
            blocks.append(_context(f"+{len(reports) - MAX_REPOS} more repositories"))
        return Reply(title, blocks=blocks)

    def _report_blocks(self, report: Report) -> list[dict[str, Any]]:
        f = report.figures
        page = (f"{self._public_url}/delivery?repo={report.repo}&env={report.environment}"
                if self._public_url else None)
        fields = [
            f"*Deployment frequency*\n{f.deployments} deploys ({per_week_text(f.per_week)})",
            f"*Lead time for changes*\nmedian {duration_text(f.lead_time)} "
            f"({len(f.lead_times)} commits)",
            f"*Change failure rate*\n{rate_text(f.change_failure_rate)} "
            f"({len(f.failures)} of {f.deployments})",
            f"*Time to restore*\nmedian {duration_text(f.time_to_restore)}"
            + (f" ({f.unrestored} not restored)" if f.unrestored else ""),
        ]
        trend = " · ".join(
            f"wk {w.start:%d %b}: {w.deployments} deploys, {duration_text(w.lead_time)}, "
            f"{rate_text(w.change_failure_rate)}" for w in f.weeks[-MAX_WEEKS:])
        return [
            {"type": "section",
             "text": {"type": "mrkdwn", "text": link(page, f"*{escape(report.repo)}*")
                      + f" · {escape(report.environment)}"},
             "fields": [{"type": "mrkdwn", "text": text} for text in fields]},
            _context(trend or "no full week in the period"),
        ]


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}
