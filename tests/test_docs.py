"""The project's Markdown renders as written: every fenced code block is closed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^\s*```", re.MULTILINE)


@pytest.mark.parametrize("doc", sorted(str(p.relative_to(ROOT)) for p in [
    *ROOT.glob("*.md"), *ROOT.glob("config/*.md"), *ROOT.glob("bench/*.md"),
    *ROOT.glob("docs/**/*.md")]))
def test_every_code_block_is_closed(doc: str) -> None:
    assert len(FENCE.findall((ROOT / doc).read_text())) % 2 == 0, f"{doc}: a ``` is not closed"
