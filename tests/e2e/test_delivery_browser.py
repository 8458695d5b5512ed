"""The `/delivery` page in a real browser (Debian's chromium, as tests/e2e/test_web_browser.py
drives it): the hand-built history's figures, readable on a phone without sideways
scrolling, with no script of its own. DEVEXBOT_README_SCREENSHOT=1 writes the picture the
docs show (devexbot/web/static/metrics.png)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devexbot.app import create_app
from devexbot.http.serving import ServerThread
from tests.delivery_history import SINCE, UNTIL
from tests.e2e.test_web_browser import TIMEOUT_MS, _shot, browser
from tests.test_delivery_surfaces import REPO, History, clock, history

__all__ = ["browser", "clock", "history"]  # fixtures, shared

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "devexbot/web/static/metrics.png"
QUERY = (f"/delivery?repo={REPO}&env=production&since={SINCE.date().isoformat()}"
         f"&until={UNTIL.date().isoformat()}")


@pytest.fixture
def served(history: History) -> Iterator[str]:
    app = create_app(history.bot.services.settings, services=history.bot.services,
                     background=False)
    with ServerThread(app) as running:
        yield running.url


@pytest.mark.sqlite_only  # what a browser shows does not depend on the engine
def test_the_delivery_page_on_a_desktop_and_a_phone(browser: Any, served: str) -> None:
    scripts: list[str] = []
    for width, height, name in ((1280, 1100, "metrics.png"), (390, 844, "metrics-phone.png")):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script"
                and "delivery" in r.url else None)
        page.goto(served + QUERY)
        tiles = page.locator(".tile")
        assert tiles.count() == 4
        assert [t.inner_text().split("\n")[1] for t in tiles.all()] == [
            "4 a week", "median 2.5 h", "50%", "median 3 h"]
        assert page.locator(".tile svg.chart").count() == 4
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot = _shot(page, name, full_page=width > 400)
        page.locator(".tile").nth(2).click()  # a figure leads to what is behind it
        assert page.url.endswith("#failures-0")
        if width > 400 and os.environ.get("DEVEXBOT_README_SCREENSHOT"):
            SCREENSHOT.write_bytes(shot.read_bytes())
        context.close()
    assert scripts == []
