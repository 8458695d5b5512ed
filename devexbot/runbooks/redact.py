"""Secrets out of output: declared secret values and configured patterns become [redacted]
before anything is shown in Slack or stored."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"


class Redactor:
    def __init__(self, *, values: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is replaced whole.
        literals = sorted({v for v in values if v}, key=len, reverse=True)
        alternatives = [re.escape(v) for v in literals] + [f"(?:{p})" for p in patterns]
        self._regex = re.compile("|".join(alternatives)) if alternatives else None

    def __call__(self, text: str) -> str:
        if self._regex is None or not text:
            return text
        return self._regex.sub(REDACTED, text)
