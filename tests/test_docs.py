"""The project's Markdown renders as written: every fenced code block is closed, and every
link between the project's pages leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^\s*```", re.MULTILINE)
DOCS = sorted(str(p.relative_to(ROOT)) for p in [
    *ROOT.glob("*.md"), *ROOT.glob("config/*.md"), *ROOT.glob("bench/*.md"),
    *ROOT.glob("docs/**/*.md")])
LINKED = [doc for doc in DOCS if doc == "README.md" or doc.startswith(("docs/", "config/"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def unfenced(text: str) -> str:
    """The text outside fenced code blocks."""
    return re.sub(r"^\s*```.*?^\s*```", "", text, flags=re.MULTILINE | re.DOTALL)


def prose(text: str) -> str:
    """The text outside fenced code blocks and `code spans`."""
    return re.sub(r"`[^`\n]*`", "", unfenced(text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text, lower case, without punctuation but - and _,
    spaces as -."""
    heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    """The anchors of a page's headings (GitHub numbers a repeated one: -1, -2 …)."""
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", unfenced(doc.read_text()), re.MULTILINE):
        base = slug(heading)
        found.add(f"{base}-{seen[base]}" if base in seen else base)
        seen[base] = seen.get(base, 0) + 1
    return found


def test_slugs_follow_githubs_rules() -> None:
    assert slug("Send it GitHub's webhooks") == "send-it-githubs-webhooks"
    assert slug("Jenkins, GitHub Actions and tools") == "jenkins-github-actions-and-tools"
    assert slug("Is it healthy?") == "is-it-healthy"
    assert slug("Principals: who may act") == "principals-who-may-act"
    assert slug("`retry_rules` and snake_case") == "retry_rules-and-snake_case"


@pytest.mark.parametrize("doc", DOCS)
def test_every_code_block_is_closed(doc: str) -> None:
    assert len(FENCE.findall((ROOT / doc).read_text())) % 2 == 0, f"{doc}: a ``` is not closed"


@pytest.mark.parametrize("doc", LINKED)
def test_every_link_between_pages_leads_somewhere(doc: str) -> None:
    page = ROOT / doc
    broken = []
    for target in LINK.findall(prose(page.read_text())):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto: … are not ours to check
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and anchor not in anchors(linked):
            broken.append(f"{target}: {linked.relative_to(ROOT)} has no heading #{anchor}")
    assert not broken, f"{doc}: " + "; ".join(broken)
