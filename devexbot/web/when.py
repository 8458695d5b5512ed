"""Times as the workspace shows them: one readable form, "Fri 20 Nov, 10:05 UTC", in a
`<time>` that web.js rewrites into the reader's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup, escape


def parse_moment(value: datetime | str | None) -> datetime | None:
    """A datetime, or an ISO 8601 string (the card JSON's); None for anything else. A
    moment without a zone is taken as UTC, as the store writes them."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    """`2026-11-20T10:05:00Z`: what `<time datetime>` and the page's scripts read."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def readable(moment: datetime) -> str:
    """`Fri 20 Nov, 10:05 UTC`: what a page shows before (or without) its script."""
    utc = moment.astimezone(UTC)
    return f"{utc:%a} {utc.day} {utc:%b}, {utc:%H:%M} UTC"


def full(moment: datetime) -> str:
    """`Fri 20 Nov 2026, 10:05:07 UTC`: the tooltip, to the second."""
    utc = moment.astimezone(UTC)
    return f"{utc:%a} {utc.day} {utc:%b} {utc:%Y}, {utc:%H:%M:%S} UTC"


def time_html(value: datetime | str | None, *, ago: bool = False) -> Markup:
    """A `<time>` element in the one readable form; `ago` makes the page say "5 min ago"
    instead (the tooltip keeps the time). Empty for no time; the text itself for text that
    is no time."""
    moment = parse_moment(value)
    if moment is None:
        return Markup("") if value is None else escape(str(value))
    kind = "ago" if ago else "at"
    return Markup(  # noqa: S704 - every piece is ours or escaped
        f'<time datetime="{iso(moment)}" data-when="{kind}" title="{escape(full(moment))}">'
        f"{escape(readable(moment))}</time>")
