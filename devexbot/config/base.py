"""What every config section shares: strict models, durations and principals."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from correlation.principals import parse_principal


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _principal(value: str) -> str:
    parse_principal(value)  # a ValueError says what would do, in words
    return value


Principal = Annotated[str, AfterValidator(_principal)]
"""Who may act: `*` (everyone), a Slack user id, a user group (`S…` or `@handle`),
`github:<login>` or `github-team:<org>/<team>` (see correlation.principals)."""


_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _duration(value: Any) -> Any:
    """`90s`, `30m`, `24h`, `2d`, `1w`, or combined (`1h30m`); a bare number is seconds;
    `never` is 0 (what never ends)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if text == "never":
        return timedelta(0)
    if not text or _DURATION.sub("", text).strip():
        raise ValueError(f"not a duration: {value!r} (say 30m, 24h, 2d)")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in _DURATION.findall(text)))


Duration = Annotated[timedelta, BeforeValidator(_duration)]

