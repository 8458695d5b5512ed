"""Small weekly bar charts as inline SVG, drawn on the server: no script, no files from
elsewhere, styled by the page's stylesheet (the CSP allows no inline styles)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, TOP, BOTTOM = 300, 110, 16, 18  # view box units; the SVG scales to its box


def week_bars(values: Sequence[float | None], labels: Sequence[str], *, shown: Sequence[str],
              title: str, tone: str = "plain") -> Markup:
    """One bar per week (`values`, None: nothing to measure that week), the `shown` text
    above each bar and its week's `labels` below; `tone` picks the bars' colour class."""
    count = max(len(values), 1)
    slot = WIDTH / count
    bar = min(slot * 0.7, 48)
    peak = max((v for v in values if v is not None), default=0) or 1
    parts = [f'<svg class="chart chart-{escape(tone)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" aria-label="{escape(title)}" preserveAspectRatio="none">',
             f"<title>{escape(title)}</title>",
             f'<line class="axis" x1="0" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" '
             f'y2="{HEIGHT - BOTTOM}"/>']
    room = HEIGHT - TOP - BOTTOM
    for i, (value, label, text) in enumerate(zip(values, labels, shown, strict=True)):
        x = i * slot + (slot - bar) / 2
        middle = i * slot + slot / 2
        if value is not None:
            height = max(room * value / peak, 1.5)
            y = HEIGHT - BOTTOM - height
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                         f'height="{height:.1f}"><title>{escape(label)}: {escape(text)}'
                         "</title></rect>")
            parts.append(f'<text class="value" x="{middle:.1f}" y="{y - 3:.1f}">'
                         f"{escape(text)}</text>")
        parts.append(f'<text class="week" x="{middle:.1f}" y="{HEIGHT - 5}">'
                     f"{escape(label)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped
