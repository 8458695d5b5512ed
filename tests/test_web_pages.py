"""The workspace's pages as a person's browser gets them: the cards as their Slack messages
read, filters, a card's timeline, and the login wall off the loopback interface."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from correlation.blocks import render_card
from correlation.checklist import check_lines
from devexbot.store.cards import get_card
from devexbot.wiring import Services, build_services
from tests.conftest import GITHUB_SECRET, JENKINS_TOKEN, make_settings
from tests.db_template import migrate
from tests.fakes.jira_api import FakeJira
from tests.github_sender import GitHubSender, load_fixture
from tests.jenkins_sender import JenkinsSender, load_jenkins
from tests.scenario import HEAD, REPO, commit_stream
from tests.web_client import OUTSIDE, web_client


@pytest.fixture
def local(services: Services):
    with web_client(services) as client:
        yield client


def deliver_all(client: TestClient) -> None:
    sender = GitHubSender(client, GITHUB_SECRET)
    for event, payload in commit_stream():
        assert sender.deliver(event, payload).status_code == 202


def texts(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# Emoji need an emoji font; the page draws its icons and says each status in words.
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2300-\u23FF\u2600-\u27BF\u2B00-\u2BFF]\ufe0f?")


def unmarked(mrkdwn_line: str) -> str:
    """A Slack line's words as a page shows them: links' texts, no bold, no emoji."""
    words = re.sub(r"<[^|>]+\|([^>]+)>", r"\1", mrkdwn_line).replace("*", "")
    return texts(EMOJI.sub("", words)).strip()


@pytest.mark.sqlite_only
def test_the_workspace_shows_each_card_as_its_slack_message_reads(local: TestClient,
                                                                   services: Services) -> None:
    deliver_all(local)
    page = local.get("/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    shown = texts(page.text)
    with services.db.read() as session:
        row = get_card(session, REPO, HEAD)
        card = services.card_loader.load(row)
    # Every line of the Slack message, in the same words; icons and labels for its emoji.
    message = render_card(card)
    assert unmarked(message.blocks[0]["text"]["text"]) in shown  # "octo-org/octo-app · …"
    for block in message.blocks[1:]:
        texts_of = ([block["text"]["text"]] if "text" in block
                    else [e["text"] for e in block.get("elements", []) if "text" in e])
        for line in "\n".join(texts_of).split("\n"):
            assert unmarked(line) in shown, unmarked(line)
    assert "1 of 4 checks failed (test)" in shown
    assert 'class="card status-failure' in page.text
    assert not EMOJI.findall(page.text.split('id="cards"')[1])


@pytest.mark.sqlite_only
def test_user_text_is_escaped_and_links_are_http_only(local: TestClient) -> None:
    payload = copy.deepcopy(load_fixture("check_run.completed"))
    payload["check_run"]["name"] = '<script>alert("x")</script>'
    payload["check_run"]["details_url"] = "javascript:alert(1)"
    payload["check_run"]["html_url"] = 'https://x.example/"><img src=x onerror=alert(1)>'
    GitHubSender(local, GITHUB_SECRET).deliver("check_run", payload)
    html = local.get("/").text
    assert "<script>alert" not in html and "onerror=alert" not in html.replace("&quot;", "")
    assert "&lt;script&gt;alert" in html
    assert 'href="javascript' not in html


def test_filters_and_search(local: TestClient) -> None:
    deliver_all(local)
    sender = GitHubSender(local, GITHUB_SECRET)
    other = copy.deepcopy(load_fixture("status.success"))
    other.update(sha="ab" * 20, state="pending")
    other["repository"]["full_name"] = "octo-org/other"
    other.pop("commit")
    other["branches"] = [{"name": "release/2.0", "commit": {"sha": "ab" * 20}}]
    sender.deliver("status", other)

    def keys(**params: str) -> list[str]:
        return re.findall(r'data-key="([^"]+)"', local.get("/", params=params).text)

    everything = keys()
    assert len(everything) == 2
    assert keys(repo="octo-org/other") == [f"octo-org/other@{'ab' * 20}"]
    assert keys(status="failure") == [f"{REPO}@{HEAD}"]
    assert keys(status="pending") == [f"octo-org/other@{'ab' * 20}"]
    assert keys(environment="staging") == [f"{REPO}@{HEAD}"]
    assert keys(environment="production") == []
    assert keys(branch="feature/login") == [f"{REPO}@{HEAD}"]
    assert keys(branch="release/2.0", repo="octo-org/other") == [f"octo-org/other@{'ab' * 20}"]
    assert keys(q=HEAD[:7]) == [f"{REPO}@{HEAD}"]
    assert keys(q="#12") == keys(q="12") == [f"{REPO}@{HEAD}"]
    assert keys(q="abab") == [f"octo-org/other@{'ab' * 20}"]
    assert keys(q="nothing") == []
    assert "No card matches these filters" in local.get("/", params={"q": "zzzz"}).text


def section(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


@pytest.mark.sqlite_only
def test_the_card_page_has_the_timeline_in_event_time_order(local: TestClient) -> None:
    deliver_all(local)
    page = local.get(f"/cards/{REPO}/{HEAD[:7]}")
    assert page.status_code == 200
    timeline = section(page.text, 'id="timeline"', 'id="audit"')
    headlines = section(timeline, '<ol class="timeline"', "</ol>")
    folded = section(timeline, '<details class="bookkeeping"', "</details>")
    for part in (headlines, folded):
        times = re.findall(r'<li class="status-[a-z]+">\s*<time datetime="([^"]+)"', part)
        assert times == sorted(times)
    assert "https://ci.octo-app.example.com/builds/103" in page.text  # a source link
    assert "Nobody has acted on this card" in page.text  # the audit's empty state
    assert local.get(f"/cards/{REPO}/{'0' * 40}").status_code == 404


@pytest.mark.sqlite_only
def test_the_timeline_shows_what_people_care_about_and_folds_the_bookkeeping(
        local: TestClient) -> None:
    deliver_all(local)
    timeline = section(local.get(f"/cards/{REPO}/{HEAD}").text, 'id="timeline"', 'id="audit"')
    headlines = texts(section(timeline, '<ol class="timeline"', "</ol>"))
    folded = section(timeline, '<details class="bookkeeping"', "</details>")
    for said in ("pushed Add login page", "pull request #12 Add login page is open",
                 "check test started", "check test failed", "check build passed",
                 "deployed to staging"):
        assert said in headlines, said
    assert "branch from" not in headlines and "queued" not in headlines
    count = len(re.findall(r"<li ", folded))
    assert f"{count} more (bookkeeping)</summary>" in folded
    assert "branch from push: feature/login" in texts(folded)


@pytest.mark.sqlite_only
def test_every_time_reads_in_one_form_that_the_page_turns_into_the_readers_zone(
        local: TestClient) -> None:
    deliver_all(local)
    for path in ("/", f"/cards/{REPO}/{HEAD}"):
        html = local.get(path).text
        times = re.findall(r'<time datetime="([^"]+)"[^>]*>([^<]*)</time>', html)
        assert times and len(times) == html.count("<time ")
        for stamp, shown in times:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp), stamp
            assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2}, \d\d:\d\d UTC", shown), shown
        assert not re.search(r"\d\d:\d\d(:\d\d)?(\.\d+)?(Z|\+00:00)", texts(html))  # no raw ISO
    assert "Fri 20 Nov, 10:04 UTC" in texts(local.get(f"/cards/{REPO}/{HEAD}").text)


@pytest.mark.sqlite_only
def test_every_status_has_words_and_an_icon(local: TestClient) -> None:
    deliver_all(local)
    card_page = local.get(f"/cards/{REPO}/{HEAD}").text
    for html in (local.get("/").text, card_page):
        lines = re.findall(r'<li class="line status-([a-z]+)[^"]*"><span class="state">'
                           r'<span class="icon" aria-hidden="true"></span>'
                           r'<span class="label">([^<]+)</span>', html)
        assert ("failure", "failed") in lines and ("success", "passed") in lines
        assert '<span class="badge badge-failure">failed</span>' in html
    rows = re.findall(r'<td class="state"><span class="icon" aria-hidden="true"></span>'
                      r'<span class="label">([^<]+)</span>', card_page)
    assert sorted(rows) == ["failed", "passed", "passed", "passed"]


@pytest.mark.sqlite_only
def test_failed_tests_show_on_the_card_and_its_page(local: TestClient) -> None:
    answer = JenkinsSender(local, JENKINS_TOKEN).notify(load_jenkins("completed.unstable"))
    assert answer.status_code == 202
    failed = ["tests.test_login.TestLogin.test_remember_me",
              "tests.test_login.TestLogin.test_lockout_after_five_attempts",
              "tests.test_session.TestSession.test_expiry"]
    card = section(local.get("/").text, "<article", "</article>")
    page = section(local.get(f"/cards/{REPO}/{HEAD}").text, 'id="all-checks"', "</section>")
    for html in (card, page):
        assert "Failed tests:" in html
        assert [f"<code>{name}</code>" in html for name in failed] == [True] * 3


@pytest.mark.sqlite_only
def test_off_loopback_the_workspace_wants_a_login(services: Services) -> None:
    with web_client(services, client=OUTSIDE) as outside:
        for path in ("/", f"/cards/{REPO}/{HEAD}"):
            answer = outside.get(path, follow_redirects=False)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/login?next=")
        assert outside.get("/api/stream").status_code == 401
        login = outside.get("/login")
        assert "No way to sign in is set up" in login.text
        assert outside.get("/healthz").status_code == 200  # health and metrics stay open
        assert outside.get("/metrics").status_code == 200


@pytest.mark.parametrize(("client", "headers", "local_view"), [
    (("127.0.0.1", 1), {}, True),
    (("::1", 1), {"host": "[::1]:8000"}, True),
    (("127.0.0.1", 1), {"host": "localhost:8000"}, True),
    (("127.0.0.1", 1), {"host": "devexbot.example.com"}, False),  # DNS rebinding, or a proxy
    (("127.0.0.1", 1), {"x-forwarded-for": "198.51.100.4"}, False),  # an unannounced proxy
    (("10.0.0.8", 1), {}, False),
])
@pytest.mark.sqlite_only
def test_what_counts_as_local(services: Services, client: tuple[str, int],
                              headers: dict[str, str], local_view: bool) -> None:
    with web_client(services, client=client) as test_client:
        answer = test_client.get("/", headers=headers, follow_redirects=False)
    assert (answer.status_code == 200) is local_view


def _services(tmp_path: Path, database_url: str, **settings: str) -> Services:
    built = build_services(make_settings(database_url, tmp_path, **settings))
    migrate(built.db.engine)
    return built


def test_a_trusted_proxy_forwards_the_client_address(tmp_path: Path, sqlite_url: str) -> None:
    services = _services(tmp_path, sqlite_url, devexbot_trusted_proxies="10.0.0.0/8")
    with web_client(services, client=("10.0.0.2", 1)) as proxied:
        outside = proxied.get("/", headers={"x-forwarded-for": "198.51.100.4"},
                              follow_redirects=False)
        assert outside.status_code == 303
        spoofed = proxied.get("/", headers={"x-forwarded-for": "127.0.0.1, 198.51.100.4"},
                              follow_redirects=False)
        assert spoofed.status_code == 303  # the rightmost untrusted hop is the client
    services.db.dispose()


def test_the_token_login(tmp_path: Path, sqlite_url: str) -> None:
    services = _services(tmp_path, sqlite_url, devexbot_web_token="s3cret-web-token")
    with web_client(services, client=OUTSIDE, base_url="https://devexbot.example.com") as c:
        page = c.get("/login?next=/cards/x/y/abcd")
        assert 'name="token"' in page.text and "Sign in with Slack" not in page.text
        wrong = c.post("/login", data={"token": "guess", "next": "/"}, follow_redirects=False)
        assert wrong.status_code == 401 and "not the workspace" in wrong.text
        right = c.post("/login", data={"token": "s3cret-web-token", "next": "//evil.example"},
                       follow_redirects=False)
        assert right.status_code == 303 and right.headers["location"] == "/"
        cookie = right.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
        assert c.get("/", follow_redirects=False).status_code == 200
        assert "Sign out" in c.get("/").text
        c.post("/logout")
        assert c.get("/", follow_redirects=False).status_code == 303
        c.cookies.set("devexbot_session", "eyJ2aWEiOiJ0b2tlbiJ9.forged")
        assert c.get("/", follow_redirects=False).status_code == 303
    services.db.dispose()


@pytest.mark.sqlite_only
def test_metrics_count_deliveries_and_latency(local: TestClient) -> None:
    deliver_all(local)
    sender = GitHubSender(local, "wrong-secret")
    sender.deliver("push", load_fixture("push"))
    GitHubSender(local, GITHUB_SECRET).deliver("push", load_fixture("push"), delivery_id="d1")
    GitHubSender(local, GITHUB_SECRET).deliver("push", load_fixture("push"), delivery_id="d1")
    text = local.get("/metrics").text
    assert 'devexbot_webhook_deliveries_total{result="stored",source="github"} 17.0' in text
    assert 'devexbot_webhook_deliveries_total{result="unauthorized",source="github"} 1.0' in text
    assert 'devexbot_webhook_deliveries_total{result="duplicate",source="github"} 1.0' in text
    assert 'devexbot_ingest_seconds_count{source="github"} 19.0' in text
    for name in ("devexbot_actions_total", "devexbot_runbook_runs_total",
                 "devexbot_slack_calls_total", "devexbot_web_streams"):
        assert f"# TYPE {name.removesuffix('_total')}" in text


def test_a_filter_with_a_nul_in_it_matches_nothing_not_a_500(local: TestClient) -> None:
    # PostgreSQL cannot compare text with a NUL: the page answered 500.
    deliver_all(local)
    page = local.get("/", params={"repo": "\x00", "branch": "main\x00"})
    assert page.status_code == 200
    assert HEAD[:7] in page.text  # the filters were dropped, as filters nothing can match are


def test_the_workspace_shows_tickets_by_the_configured_rules_as_the_api_does(
        tmp_path: Path, database_url: str) -> None:
    # The web folded cards without the config's ticket rules: ABC-12 unlinked, OPS-3 shown.
    (tmp_path / "devexbot.yaml").write_text("tickets:\n  projects: [ABC]\n")
    with FakeJira() as jira:
        jira.add_issue("ABC-12", "Login page")
        services = _services(tmp_path, database_url, jira_url=jira.base_url,
                             jira_user=jira.user, jira_api_token=jira.token)
        with web_client(services) as web:
            sender = GitHubSender(web, GITHUB_SECRET)
            push = copy.deepcopy(load_fixture("push"))
            push["head_commit"]["message"] = "ABC-12 Add login page\n\nRolled out with OPS-3."
            assert sender.deliver("push", push).status_code == 202
            pull = copy.deepcopy(load_fixture("pull_request.opened"))
            pull["pull_request"]["body"] = "Adds the login form. Part of ABC-12; see OPS-3."
            assert sender.deliver("pull_request", pull).status_code == 202

            link = f'<a href="{jira.base_url}/browse/ABC-12"'
            listed = web.get("/").text
            card_page = web.get(f"/cards/{REPO}/{HEAD}").text
            for page in (listed, card_page):
                tickets = page.split('<p class="tickets">', 1)[1].split("</p>", 1)[0]
                assert link in tickets and ">ABC-12</a>" in tickets, tickets
                assert "OPS-3" not in tickets, tickets
            assert "OPS-3" not in listed
            api = web.get(f"/api/cards/{REPO}/{HEAD}").json()
            assert [(t["key"], t["url"]) for t in api["tickets"]] == [
                ("ABC-12", f"{jira.base_url}/browse/ABC-12")]
        services.db.dispose()


@pytest.mark.sqlite_only
def test_many_passing_checks_read_as_a_count_that_opens_as_in_slack(
        local: TestClient, services: Services) -> None:
    sender = GitHubSender(local, GITHUB_SECRET)
    for n in range(10):
        payload = copy.deepcopy(load_fixture("check_run.completed"))
        payload["check_run"].update(id=500 + n, name=f"suite-{n}",
                                    conclusion="failure" if n == 3 else "success")
        assert sender.deliver("check_run", payload).status_code == 202
    with services.db.read() as session:
        card = services.card_loader.load(get_card(session, REPO, HEAD))
    slack_lines = [unmarked(line) for line in check_lines(card.checks)]
    assert slack_lines[0] == "9 checks passed, 1 failed: suite-3"  # Slack's count line

    html = section(local.get("/").text, "<article", "</article>")
    folded = section(html, '<details class="quiet', "</details>")
    assert slack_lines[0] in texts(section(folded, "<summary>", "</summary>"))
    assert "show 9" in folded and len(re.findall(r'<li class="line', folded)) == 9
    listed = texts(html.split("</details>", 1)[1].split('class="card-foot"', 1)[0])
    assert "suite-3" in listed and "suite-0" not in listed  # as Slack lists them


HOSTILE_URLS = ("javascript:alert(1)", " JaVaScRiPt:alert(1)", "data:text/html,<b>x</b>",
                "vbscript:msgbox(1)", "//evil.example/x", "java\tscript:alert(1)")


def hostile(value: object, n: list[int]) -> object:
    """The payload with every `…url` field replaced by a URL no page should link to."""
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, item in value.items():
            if key.endswith("url") and isinstance(item, str):
                out[key] = HOSTILE_URLS[n[0] % len(HOSTILE_URLS)]
                n[0] += 1
            else:
                out[key] = hostile(item, n)
        return out
    if isinstance(value, list):
        return [hostile(item, n) for item in value]
    return value


@pytest.mark.sqlite_only
def test_no_page_links_to_an_unsafe_url_from_any_payload(local: TestClient) -> None:
    """Every href on the workspace and the card page is the bot's own path or http(s),
    whatever URL a sender put in any field."""
    sender, n = GitHubSender(local, GITHUB_SECRET), [0]
    for event, payload in commit_stream():
        assert sender.deliver(event, hostile(payload, n)).status_code == 202
    for name in ("deployment_status.failure", "workflow_run.completed",
                 "workflow_job.completed", "check_run.completed.failure"):
        event = name.split(".")[0]
        assert sender.deliver(event, hostile(load_fixture(name), n)).status_code == 202
    jenkins = hostile(load_jenkins("completed.failure"), n)
    assert isinstance(jenkins, dict)
    JenkinsSender(local, JENKINS_TOKEN).notify(jenkins)
    assert n[0] > 20  # many fields carried a hostile URL
    pages = [local.get("/").text, local.get(f"/cards/{REPO}/{HEAD}").text]
    hrefs = [h for page in pages for h in re.findall(r'href="([^"]*)"', page)]
    assert len(hrefs) > 5
    unsafe = [h for h in hrefs
              if not ((h.startswith(("/", "?", "#")) and not h.startswith("//"))
                      or h.startswith(("https://", "http://")))]
    assert unsafe == []
