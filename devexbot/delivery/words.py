"""The figures in words, the same in Slack and on the page: `2.5 h`, `50%`, `4 a week`."""

from __future__ import annotations

from datetime import timedelta


def duration_text(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = value / timedelta(minutes=1)
    if minutes < 90:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    if hours < 48:
        return f"{_number(hours)} h"
    return f"{_number(hours / 24)} d"


def rate_text(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def per_week_text(value: float) -> str:
    return f"{_number(value)} a week"


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")
