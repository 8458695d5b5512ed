"""The workspace in a real browser: Debian's chromium, driven by Playwright.

Nothing is installed at run time: without /usr/bin/chromium (or the playwright package)
these tests skip, except in CI, where .ci/run installs chromium and they must run.
Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devexbot.app import create_app
from devexbot.config import BotConfig
from devexbot.demo import DemoSecrets, play
from devexbot.demo.bot import DEMO_USER, demo_config
from devexbot.demo.scenario import ENVIRONMENTS, FEATURE, MERGE
from devexbot.http.serving import ServerThread
from devexbot.wiring import Services, build_services
from tests.conftest import GITHUB_SECRET, make_settings
from tests.db_template import migrate
from tests.demo_run import APP, demo_process
from tests.github_sender import GitHubSender, load_fixture
from tests.scenario import HEAD, REPO

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
README_SCREENSHOT = Path(__file__).resolve().parents[2] / "devexbot/web/static/workspace.png"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
    "--no-first-run", "--disable-component-update", "--disable-sync",
    "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable",
    # A name that is not the machine's own, resolving to loopback: "off the machine" to
    # the bot, without leaving it.
    "--host-resolver-rules=MAP devexbot.test 127.0.0.1",
]
TIMEOUT_MS = 15_000


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the browser tests (.ci/run installs chromium)")
    pytest.skip(f"{reason} (apt-get install chromium to run the browser tests)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    # Playwright starts chromium with a fresh profile of its own in a temporary folder.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=FLAGS, timeout=30_000)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()


def _shot(page: Any, name: str, **kwargs: Any) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), **kwargs)
    return path


@pytest.fixture
def server(services: Services) -> Iterator[ServerThread]:
    with ServerThread(create_app(services.settings, services=services)) as running:
        yield running


def _check_run(conclusion: str, at: str) -> dict[str, Any]:
    payload = load_fixture("check_run.completed")
    payload["check_run"].update(conclusion=conclusion, completed_at=at)
    return payload


def test_a_card_changes_live_without_a_reload(page: Any, server: ServerThread) -> None:
    page.goto(f"{server.url}/")
    page.wait_for_selector(".live[data-live='open']")
    assert page.is_visible("#empty")
    load_id = page.evaluate("document.documentElement.dataset.loadId")
    card = f"article[data-key='{REPO}@{HEAD}']"
    with httpx.Client(base_url=server.url) as client:
        sender = GitHubSender(client, GITHUB_SECRET)
        sender.deliver("check_run", _check_run("success", "2026-11-20T10:03:00Z"))
        page.wait_for_selector(f"{card}.status-success")
        assert page.is_hidden("#empty")
        sender.deliver("check_run", _check_run("failure", "2026-11-20T10:05:00Z"))
        page.wait_for_selector(f"{card}.status-failure")
    assert page.inner_text(f"{card} .badge") == "FAILED"  # upper-cased by the style
    assert page.evaluate("document.documentElement.dataset.loadId") == load_id  # no reload
    _shot(page, "workspace-live.png")


@pytest.fixture(scope="module")
def demo_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """A bot on SQLite that has played the demo's whole story."""
    folder = tmp_path_factory.mktemp("demo")
    keys = DemoSecrets.generate()
    settings = make_settings(f"sqlite:///{folder / 'demo.db'}", folder,
                             github_webhook_secret=keys.github,
                             jenkins_webhook_token=keys.jenkins, deploy_webhook_secret=keys.deploy,
                             devexbot_web_token="browser-test-token")
    services = build_services(settings, config=BotConfig(environments=ENVIRONMENTS))
    migrate(services.db.engine)
    with ServerThread(create_app(settings, services=services)) as running:
        play(running.url, keys, speed=400, say=lambda line: None)
        yield running
    services.db.dispose()


def _keys(page: Any) -> list[str]:
    keys: list[str] = page.eval_on_selector_all("#cards article",
                                                "els => els.map(e => e.dataset.key)")
    return keys


def test_filters_narrow_the_cards(page: Any, demo_bot: ServerThread) -> None:
    page.goto(f"{demo_bot.url}/")
    assert len(_keys(page)) == 3
    _shot(page, "workspace.png")
    page.select_option("select[name=status]", "failure")
    page.wait_for_url("**/?status=failure")
    assert [k.split("@")[0] for k in _keys(page)] == ["octo-org/octo-api"]
    page.goto(f"{demo_bot.url}/")
    page.select_option("select[name=repo]", "octo-org/octo-app")
    page.wait_for_url("**repo=octo-org%2Focto-app")
    assert len(_keys(page)) == 2
    page.fill("input[name=q]", MERGE[:8])
    page.press("input[name=q]", "Enter")
    page.wait_for_url(f"**q={MERGE[:8]}")
    assert _keys(page) == [f"octo-org/octo-app@{MERGE}"]
    page.goto(f"{demo_bot.url}/?environment=production")
    assert _keys(page) == [f"octo-org/octo-app@{MERGE}"]
    page.click(f"article[data-key='octo-org/octo-app@{MERGE}'] .card-title a")
    page.wait_for_selector("#timeline .timeline li")
    _shot(page, "card-page.png", full_page=True)


def test_on_a_phone(browser: Any, demo_bot: ServerThread) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    phone = context.new_page()
    phone.goto(f"{demo_bot.url}/")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
    _shot(phone, "workspace-phone.png")
    phone.goto(f"{demo_bot.url}/cards/octo-org/octo-app/{MERGE}")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the card's page scrolls sideways ({width}px)"
    _shot(phone, "card-page-phone.png", full_page=True)
    context.close()


def test_off_the_machine_the_login_wall_comes_first(page: Any, demo_bot: ServerThread) -> None:
    page.goto(f"http://devexbot.test:{demo_bot.port}/?status=failure")
    page.wait_for_selector("text=Sign in to see the cards")
    assert "/login?next=" in page.url
    assert page.locator("#cards").count() == 0
    _shot(page, "login-wall.png")
    page.fill("input[name=token]", "not-it")
    page.click("button[type=submit]")
    page.wait_for_selector("text=not the workspace's token")
    page.fill("input[name=token]", "browser-test-token")
    page.click("button[type=submit]")
    page.wait_for_url("**/?status=failure")
    assert [k.split("@")[0] for k in _keys(page)] == ["octo-org/octo-api"]
    assert page.is_visible("text=Sign out")


def test_times_read_in_the_readers_zone_and_statuses_in_words(browser: Any,
                                                              server: ServerThread) -> None:
    # A reader in Tokyo (UTC+9, no daylight saving), with no emoji font needed.
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  timezone_id="Asia/Tokyo", locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    with httpx.Client(base_url=server.url) as client:
        sender = GitHubSender(client, GITHUB_SECRET)
        sender.deliver("check_run", _check_run("failure", "2026-11-20T10:05:00Z"))
    page.goto(f"{server.url}/cards/{REPO}/{HEAD}")
    updated = page.locator("#all-checks td time").first
    assert updated.get_attribute("datetime") == "2026-11-20T10:05:00Z"
    page.wait_for_function("t => !t.textContent.includes('UTC')", arg=updated.element_handle())
    assert updated.inner_text() == "Fri 20 Nov, 19:05 GMT+9"
    assert updated.get_attribute("title") == "Fri, 20 Nov 2026, 19:05:00 GMT+9"
    timeline = page.locator("#timeline > ol time").all_inner_texts()
    assert timeline and all(t.endswith("GMT+9") for t in timeline), timeline

    line = page.locator("#cards .checks .line").first
    assert line.locator(".label").inner_text() == "failed"
    assert line.locator(".label").is_visible()
    icon = line.locator(".icon")
    box = icon.bounding_box()
    assert box is not None and box["width"] >= 10 and box["height"] >= 10
    style = icon.evaluate("el => { const s = getComputedStyle(el, '::after');"
                          " return [s.maskImage || s.webkitMaskImage, getComputedStyle(el)"
                          ".backgroundColor]; }")
    assert style[0].startswith("url(\"data:image/svg+xml"), style  # drawn, not a font glyph
    assert style[1] == "rgb(207, 34, 46)"  # the failure colour

    # Live: the page takes the news in place, in the same form, and what the reader opened
    # stays open.
    page.wait_for_selector(".live[data-live='open']")
    page.click("#timeline details.bookkeeping summary")
    with httpx.Client(base_url=server.url) as client:
        GitHubSender(client, GITHUB_SECRET).deliver(
            "check_run", _check_run("success", "2026-11-20T10:07:00Z"))
    page.wait_for_selector("#cards .badge-success")
    page.wait_for_function("() => document.querySelector('#all-checks td time')"
                           ".textContent.includes('19:07')")
    assert page.locator("#timeline details.bookkeeping").get_attribute("open") is not None
    assert page.locator("#cards .card-foot time").inner_text().endswith("ago")
    _shot(page, "card-page-tokyo.png", full_page=True)
    context.close()


def test_the_readme_screenshot(browser: Any, tmp_path: Path) -> None:
    """The demo a minute in, as its visitor sees it: CI retried, main built, test waiting
    for approval (Approve and Reject on its card). DEVEXBOT_README_SCREENSHOT=1 writes it
    over the README's picture."""
    keys = DemoSecrets.generate()
    settings = make_settings(f"sqlite:///{tmp_path / 'demo.db'}", tmp_path,
                             github_webhook_secret=keys.github,
                             jenkins_webhook_token=keys.jenkins, deploy_webhook_secret=keys.deploy)
    services = build_services(settings, config=demo_config(), demo_user=DEMO_USER)
    migrate(services.db.engine)
    with ServerThread(create_app(settings, services=services)) as running:
        play(running.url, keys, speed=400, until=66, say=lambda line: None)
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        shown = context.new_page()
        shown.goto(f"{running.url}/")
        shown.wait_for_selector(".live[data-live='open']")
        assert shown.locator("article.status-waiting").count() == 1
        assert shown.locator("article.status-waiting button").all_inner_texts() == [
            "Approve test", "Reject test"]
        assert shown.is_visible(".demo-user")
        shot = _shot(shown, "workspace-demo.png")
        context.close()
    if os.environ.get("DEVEXBOT_README_SCREENSHOT"):
        README_SCREENSHOT.write_bytes(shot.read_bytes())
    services.db.dispose()


def test_the_api_docs_render_offline(browser: Any, server: ServerThread) -> None:
    """Swagger UI draws the API from the bot's own files: any other host is unreachable."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    elsewhere: list[str] = []

    def offline(route: Any) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", offline)
    page = context.new_page()
    page.goto(f"{server.url}/api/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert page.inner_text(".swagger-ui .info .title").startswith("devexbot")
    page.wait_for_selector(".opblock-summary-path[data-path='/api/cards']")
    assert elsewhere == []
    _shot(page, "api-docs.png")
    context.close()


def test_the_demo_has_no_dead_ends(page: Any, tmp_path: Path) -> None:
    """`devexbot demo` in Chromium, without Slack: the visitor acts as the demo user, and
    Retry, Merge and Approve work on the demo's own GitHub."""
    page.on("dialog", lambda dialog: dialog.accept())  # the buttons' "Merge #12?" questions
    with demo_process(tmp_path, "--speed", "5", "--wait", "120") as demo:
        page.goto(f"{demo.url}/")
        assert page.inner_text(".demo-user").startswith(
            "You are acting as the demo user 'demo-ana' — this is the demo")
        feature = f"article[data-key='{APP}@{FEATURE}']"
        page.click(f"{feature} button:has-text('Retry CI')")
        page.wait_for_selector(".notice:has-text('Re-running the failed jobs of CI')")
        page.wait_for_selector(f"{feature}.status-success")  # the re-run passed

        demo.said("your turn: click Merge")
        page.reload()
        page.click(f"{feature} button:has-text('Merge')")
        page.wait_for_selector(".notice:has-text('Merged #12 into main')")
        page.wait_for_selector(f"{feature} .pr:has-text('merged')")
        page.wait_for_selector(f"{feature} .stamps:has-text('Merged by demo-ana')")

        demo.said("your turn: click Approve")
        page.goto(f"{demo.url}/cards/{APP}/{MERGE}")
        main = f"article[data-key='{APP}@{MERGE}']"
        page.click(f"{main} button:has-text('Approve test')")
        page.wait_for_selector(".notice:has-text('Approved test (1 of 1)')")
        page.wait_for_selector(f"{main} .stamps:has-text('approved by demo-ana')")
        page.wait_for_selector(f"{main} .deployments .status-success:has-text('production')",
                               timeout=40_000)
        _shot(page, "demo-approved.png", full_page=True)


HOME_SCREENSHOT = Path(__file__).resolve().parents[2] / "devexbot/web/static/home.png"


def test_the_me_page_screenshot(browser: Any, tmp_path: Path) -> None:
    """The demo a minute in, on the demo user's own page (`/me`, the Home tab's sections),
    the demo user being carla, who is asked to approve the deploy to test.
    DEVEXBOT_README_SCREENSHOT=1 writes it to devexbot/web/static/home.png."""
    from devexbot.config import Person

    keys = DemoSecrets.generate()
    settings = make_settings(f"sqlite:///{tmp_path / 'demo.db'}", tmp_path,
                             github_webhook_secret=keys.github,
                             jenkins_webhook_token=keys.jenkins, deploy_webhook_secret=keys.deploy)
    config = demo_config()
    config = config.model_copy(update={"people": {
        **config.people, "carla": Person(slack=DEMO_USER.slack_id)}})
    services = build_services(settings, config=config, demo_user=DEMO_USER)
    migrate(services.db.engine)
    with ServerThread(create_app(settings, services=services)) as running:
        play(running.url, keys, speed=400, until=66, say=lambda line: None)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        shown = context.new_page()
        shown.goto(f"{running.url}/me")
        shown.wait_for_selector("#my-approvals")
        assert shown.locator("#my-approvals button").all_inner_texts() == [
            "Approve test", "Reject test"]
        assert shown.inner_text("#my-prefs").count(": off") == 4
        shot = _shot(shown, "home-demo.png", full_page=True)
        context.close()
    if os.environ.get("DEVEXBOT_README_SCREENSHOT"):
        HOME_SCREENSHOT.write_bytes(shot.read_bytes())
    services.db.dispose()
