"""`/devex me`, the preferences it sets acting on the card's replies, quiet hours and their
digest, the Slack Home tab and the web's `/me` page: signed Slack requests to the real
endpoint, the fake Slack over HTTP, the test bot's clock."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from devexbot.store import HomeTab
from tests.bot import BotFactory, TestBot
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jenkins_api import FakeJenkins
from tests.fakes.jenkins_models import Checkout
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import load_fixture
from tests.scenario import HEAD, REPO
from tests.slack_signing import app_home_opened_body, home_tab_click_payload
from tests.test_actions import fakes_settings, start_bot
from tests.test_approvals import TWO_OF_THREE, Approvals, iso
from tests.test_retry import REMOTE, failed_build, reply_to_retry

PEOPLE = "people:\n  ana: U0ANA\n  ben: U0BEN\n  carol: U0CAROL\n"


@pytest.fixture
def fake_github() -> Any:
    with FakeGitHub() as fake:
        fake.add_repo(REPO)
        yield fake


@pytest.fixture
def fake_jenkins() -> Any:
    with FakeJenkins() as fake:
        yield fake


@pytest.fixture
def bot(make_bot: BotFactory, slack: FakeSlack) -> TestBot:
    slack.add_user("U0ANA", "ana", email="ana@example.com", tz="Europe/Paris")
    slack.add_user("U0BEN", "ben", email="ben@example.com")
    return make_bot(config=PEOPLE)


def me(bot: TestBot, text: str = "", user: str = "U0ANA") -> str:
    response = bot.slack_sender.command("/devex", f"me {text}".strip(), user_id=user,
                                        channel_id="C0TEAM")
    assert response.status_code == 200, response.text
    return str(response.json()["text"])


def audit(bot: TestBot) -> list[tuple[str, str, str, str]]:
    entries = bot.client.get("/api/audit").json()["audit"]
    return [(e["slack_user"], e["action"], e["result"], e["detail"]) for e in reversed(entries)
            if e["action"] == "prefs"]


def failing_push(bot: TestBot) -> None:
    bot.deliver("push", load_fixture("push"))
    bot.deliver("check_run", load_fixture("check_run.completed.failure"))
    bot.settle()


def dms(slack: FakeSlack, user: str) -> list[str]:
    return [m.text for m in slack.messages(f"D{user[1:]}")]


def test_devex_me_shows_and_changes_only_my_own_settings_and_audits_each(
        bot: TestBot) -> None:
    assert "(`dm-failures`): *off*" in me(bot)
    done = me(bot, "dm-failures on")
    assert done.startswith("Done: `dm-failures on`.") and "(`dm-failures`): *on*" in done
    # Quiet hours go by the time zone Slack gives the person.
    assert "*22:00-08:00 (Europe/Paris)*" in me(bot, "quiet 22:00-08:00")
    assert "(`dm-failures`): *off*" in me(bot, user="U0BEN")  # ben chose nothing
    assert "(`dm-failures`): *on*" in me(bot)
    assert audit(bot) == [
        ("U0ANA", "prefs", "ok", "dm-failures on (slash command)"),
        ("U0ANA", "prefs", "ok", "quiet 22:00-08:00 (slash command)"),
    ]


@pytest.mark.parametrize(("text", "says"), [
    ("dm-failures maybe", "`maybe` is not `on` or `off`: try `/devex me dm-failures on`."),
    ("loud on", "I don't know the setting `loud`."),
    ("quiet 10pm-8am", "`10pm-8am` is not a span of hours: try `/devex me quiet 22:00-08:00`"),
])
def test_bad_input_is_one_line_with_a_hint_and_changes_nothing(bot: TestBot, text: str,
                                                               says: str) -> None:
    told = me(bot, text)
    assert says in told and "\n" not in told
    assert audit(bot) == []


@pytest.mark.parametrize("wanted", [True, False])
def test_a_failure_on_my_commit_is_dmed_to_me_when_i_asked(bot: TestBot, slack: FakeSlack,
                                                           wanted: bool) -> None:
    me(bot, f"dm-failures {'on' if wanted else 'off'}")
    failing_push(bot)
    (reply,) = bot.thread()
    assert reply.text.startswith("<@U0ANA>")  # the thread mentions her either way
    if not wanted:
        assert dms(slack, "U0ANA") == []
        return
    (dm,) = dms(slack, "U0ANA")  # the thread's reply, without the mention
    assert "test" in dm and "<@" not in dm and dm == reply.text.removeprefix("<@U0ANA> ")


def approved_review(bot: TestBot, state: str = "approved") -> dict[str, Any]:
    review = copy.deepcopy(load_fixture(f"pull_request_review.submitted.{state}"))
    review["review"]["submitted_at"] = iso(bot.clock.now())
    return review


@pytest.mark.parametrize("state", ["approved", "changes_requested"])
def test_a_review_of_my_pr_is_dmed_to_me_when_i_asked(bot: TestBot, slack: FakeSlack,
                                                      state: str) -> None:
    bot.deliver("pull_request", load_fixture("pull_request.opened"))
    bot.settle()
    bot.deliver("pull_request_review", approved_review(bot, state))
    bot.settle()
    assert dms(slack, "U0ANA") == []  # she did not ask
    me(bot, "dm-reviews on")
    other = approved_review(bot, state)
    other["review"]["user"]["login"] = "carol"
    bot.deliver("pull_request_review", other)
    bot.settle()
    verb = "approved" if state == "approved" else "requested changes on"
    (dm,) = dms(slack, "U0ANA")
    assert f"carol {verb} <https://github.com/{REPO}/pull/12|{REPO}#12>" in dm


def test_quiet_hours_hold_dms_and_a_digest_brings_them_when_they_end(
        bot: TestBot, slack: FakeSlack) -> None:
    # ana's Slack time zone is Europe/Paris: her quiet hours are said in Paris time.
    paris = bot.clock.now().astimezone(ZoneInfo("Europe/Paris"))
    start, end = paris - timedelta(hours=1), paris + timedelta(hours=1)
    me(bot, "dm-failures on")
    me(bot, f"quiet {start:%H:%M}-{end:%H:%M}")
    failing_push(bot)
    (reply,) = bot.thread()  # the thread is told at once, without pinging her
    assert "test" in reply.text and "<@U0ANA>" not in str(reply.blocks) + reply.text
    assert dms(slack, "U0ANA") == []  # her DM waits
    assert bot.run_job("quiet-digest") == "0 digest(s) sent"
    bot.clock.advance(timedelta(minutes=59))
    assert bot.run_job("quiet-digest") == "0 digest(s) sent"  # still quiet
    bot.clock.advance(timedelta(minutes=2))
    assert bot.run_job("quiet-digest") == "1 digest(s) sent"
    (digest,) = dms(slack, "U0ANA")
    assert digest == "While your quiet hours lasted: 1 message"
    blocks = str(slack.messages("D0ANA")[0].blocks)
    assert "test" in blocks and REPO in blocks
    assert bot.run_job("quiet-digest") == "0 digest(s) sent"  # sent once


def quiet_now(bot: TestBot, user: str = "U0ANA") -> None:
    """`user`'s quiet hours are the two hours around the clock's time, in Paris."""
    paris = bot.clock.now().astimezone(ZoneInfo("Europe/Paris"))
    start, end = paris - timedelta(hours=1), paris + timedelta(hours=1)
    me(bot, f"quiet {start:%H:%M}-{end:%H:%M}", user=user)


def test_in_quiet_hours_my_failure_is_not_a_mention_but_a_line_in_my_digest(
        bot: TestBot, slack: FakeSlack) -> None:
    quiet_now(bot)  # no DMs asked for: only the thread would have pinged her
    failing_push(bot)
    (reply,) = bot.thread()
    assert "test" in reply.text and "<@U0ANA>" not in str(reply.blocks) + reply.text
    assert dms(slack, "U0ANA") == []
    bot.clock.advance(timedelta(minutes=61))
    assert bot.run_job("quiet-digest") == "1 digest(s) sent"
    assert dms(slack, "U0ANA") == ["While your quiet hours lasted: 1 message"]
    assert "test" in str(slack.messages("D0ANA")[0].blocks)
    # Out of quiet hours, the next failure mentions her again.
    payload = copy.deepcopy(load_fixture("check_run.completed.failure"))
    payload["check_run"].update(name="lint", id=payload["check_run"]["id"] + 1)
    bot.deliver("check_run", payload)
    bot.settle()
    assert "<@U0ANA>" in bot.thread()[-1].text


def test_an_approver_in_quiet_hours_is_not_pinged_but_finds_the_request_in_the_digest(
        make_bot: BotFactory, fake_github: FakeGitHub) -> None:
    bot = approvals_bot(make_bot, fake_github, TWO_OF_THREE)
    bot.slack.add_user("U0BEN", "ben", email="ben@example.com", tz="Europe/Paris")
    quiet_now(bot.bot, "U0BEN")
    bot.open_pr()
    bot.waiting_on_github(fake_github, reviewers=("ben", "carol"))
    bot.bot.settle()
    (request,) = [m for m in bot.bot.thread() if "waiting for" in str(m.blocks)]
    asked = str(request.blocks) + request.text
    assert "<@U0CAROL>" in asked and "<@U0BEN>" not in asked
    bot.bot.clock.advance(timedelta(minutes=61))
    assert bot.bot.run_job("quiet-digest") == "1 digest(s) sent"
    assert "production" in str(bot.slack.messages("D0BEN")[0].blocks)


def open_home(bot: TestBot, slack: FakeSlack, user: str, *, count: int = 1) -> dict[str, Any]:
    response = bot.slack_sender.send(app_home_opened_body(user),
                                     content_type="application/json")
    assert response.status_code == 200, response.text
    slack.wait_for_calls("views.publish", count=count)

    def recorded() -> bool:  # the listener, in Bolt's thread, has recorded what it sent
        with bot.services.db.read() as session:
            tab = session.get(HomeTab, user)
            return tab is not None and tab.wanted_at is None

    slack.wait_until(recorded, what=f"{user}'s Home tab recorded")
    view = slack.home_view(user)
    assert view is not None
    return view


def fresh_pr(bot: TestBot) -> dict[str, Any]:
    """ana's PR #12 at HEAD, opened just now (the Home tab looks at the last 14 days)."""
    payload = copy.deepcopy(load_fixture("pull_request.opened"))
    now = iso(bot.clock.now())
    payload["pull_request"].update(created_at=now, updated_at=now)
    return payload


def many_prs(bot: TestBot, count: int) -> None:
    for number in range(100, 100 + count):
        payload = fresh_pr(bot)
        sha = f"{number:040x}"
        payload["number"] = payload["pull_request"]["number"] = number
        payload["pull_request"]["head"]["sha"] = sha
        payload["pull_request"]["title"] = f"Change {number}"
        assert bot.deliver("pull_request", payload).status_code == 202


def test_opening_the_home_tab_publishes_my_sections_within_100_blocks(
        bot: TestBot, slack: FakeSlack) -> None:
    many_prs(bot, 120)
    me(bot, "dm-reviews on")
    view = open_home(bot, slack, "U0ANA")
    blocks = view["blocks"]
    text = str(blocks)
    assert view["type"] == "home" and len(blocks) <= 100
    assert "Your open pull requests (120)" in text and "and 105 more" in text
    assert "Change 219" in text  # the newest first
    assert "Reviews asked of you" in text and "Deploys waiting for your approval" in text
    assert "Your recent deploys" in text
    assert "DMs on reviews: on" in text
    # Ben is asked to review every one of them (the fixture requests him).
    ben = str(open_home(bot, slack, "U0BEN", count=2)["blocks"])
    assert "Reviews asked of you (120)" in ben and "Your open pull requests (" not in ben


def test_a_toggle_on_the_home_tab_changes_my_setting_audits_it_and_refreshes_the_tab(
        bot: TestBot, slack: FakeSlack) -> None:
    view = open_home(bot, slack, "U0ANA")
    payload = home_tab_click_payload(view, "home.pref.mute-own", user_id="U0ANA")
    assert bot.slack_sender.interaction(payload).status_code == 200
    slack.wait_for_calls("views.publish", count=2)
    assert "Mute my own actions: on" in str(slack.home_view("U0ANA"))
    assert "(`mute-own`): *on*" in me(bot)
    assert audit(bot) == [("U0ANA", "prefs", "ok", "mute-own on (Home tab)")]


def published_at(bot: TestBot) -> dict[str, Any]:
    with bot.services.db.read() as session:
        return {tab.slack_user: tab.published_at for tab in session.scalars(select(HomeTab))}


def test_news_refreshes_the_open_tabs_at_once_within_the_pace_and_only_what_changed(
        bot: TestBot, slack: FakeSlack) -> None:
    open_home(bot, slack, "U0ANA")
    open_home(bot, slack, "U0BEN", count=2)
    bot.clock.advance(60)
    assert bot.run_job("home-tabs") == "0 Home tab(s) published"  # nothing changed
    bot.deliver("pull_request", fresh_pr(bot))  # ana's, asking ben for a review
    bot.settle()  # no pass runs: the news itself refreshes the tabs
    assert "Add login page" in str(slack.home_view("U0ANA"))
    assert "Add login page" in str(slack.home_view("U0BEN"))
    assert len(slack.calls("views.publish")) == 4
    first = published_at(bot)
    # Ben approves straight away: both tabs show it, once each, but not within 10 s of
    # their last publish.
    bot.deliver("pull_request_review", approved_review(bot))
    bot.settle()
    assert "approved" in str(slack.home_view("U0ANA"))
    assert len(slack.calls("views.publish")) == 6
    second = published_at(bot)
    assert all(second[user] - first[user] >= timedelta(seconds=10) for user in first)
    # News that changes nothing a tab shows publishes nothing.
    bot.deliver("pull_request_review", approved_review(bot))
    bot.settle()
    bot.clock.advance(60)
    assert bot.run_job("home-tabs") == "0 Home tab(s) published"
    assert len(slack.calls("views.publish")) == 6


def test_the_running_bots_news_wakes_the_home_tabs_thread(bot: TestBot,
                                                          slack: FakeSlack) -> None:
    open_home(bot, slack, "U0ANA")
    bot.clock.advance(60)
    assert bot.services.me is not None and bot.services.me.worker is not None
    worker = bot.services.me.worker
    worker.poll = 3600.0  # only the news wakes it here
    worker.start()
    try:
        bot.deliver("pull_request", fresh_pr(bot))
        slack.wait_for_calls("views.publish", count=2)
        slack.wait_until(lambda: "Add login page" in str(slack.home_view("U0ANA")),
                         what="ana's tab showing her new PR")
    finally:
        worker.stop()


def test_slacks_ratelimited_holds_the_tabs_until_its_retry_after(
        bot: TestBot, slack: FakeSlack) -> None:
    open_home(bot, slack, "U0ANA")
    bot.clock.advance(60)
    slack.fail_next("views.publish", status=429, retry_after=30)
    bot.deliver("pull_request", fresh_pr(bot))
    assert bot.services.me is not None and bot.services.me.worker is not None
    assert bot.services.me.worker.run_once() == 0  # refused: stays wanted
    bot.clock.advance(29)
    assert bot.services.me.worker.run_once() == 0  # Slack's 30 s are not over
    assert len(slack.calls("views.publish")) == 2
    bot.settle()
    assert "Add login page" in str(slack.home_view("U0ANA"))
    assert len(slack.calls("views.publish")) == 3


def approvals_bot(make_bot: BotFactory, github: FakeGitHub, config: str) -> Approvals:
    return Approvals(make_bot(config=config, **fakes_settings(github, None)))


def deployment_by(bot: Approvals, login: str) -> None:
    """ana's push deploys: GitHub's deployment of HEAD to production, created by `login`."""
    payload = copy.deepcopy(load_fixture("deployment.created"))
    payload["deployment"].update(environment="production", sha=HEAD,
                                 created_at=iso(bot.bot.clock.now()),
                                 updated_at=iso(bot.bot.clock.now()))
    payload["deployment"]["creator"]["login"] = login
    bot.github.deliver("deployment", payload)


@pytest.mark.parametrize("muted", [True, False])
def test_with_mute_own_my_own_deploy_does_not_ask_me_to_approve_it(
        make_bot: BotFactory, fake_github: FakeGitHub, muted: bool) -> None:
    bot = approvals_bot(make_bot, fake_github, TWO_OF_THREE)
    me(bot.bot, f"mute-own {'on' if muted else 'off'}", user="U0BEN")
    bot.open_pr()
    deployment_by(bot, "ben")
    bot.waiting_on_github(fake_github, reviewers=("ben", "carol"))
    bot.bot.settle()
    (request,) = [m for m in bot.bot.thread() if "waiting for" in str(m.blocks)]
    asked = str(request.blocks) + request.text
    assert "<@U0CAROL>" in asked
    assert ("<@U0BEN>" in asked) is not muted


def test_approve_on_my_home_tab_approves_through_the_cards_own_handler(
        make_bot: BotFactory, fake_github: FakeGitHub) -> None:
    bot = approvals_bot(make_bot, fake_github, TWO_OF_THREE)
    bot.open_pr()
    bot.waiting_on_github(fake_github)
    bot.bot.settle()
    view = open_home(bot.bot, bot.slack, "U0BEN")
    assert "Deploys waiting for your approval (1)" in str(view["blocks"])
    payload = home_tab_click_payload(view, "card.approve:production", user_id="U0BEN")
    assert bot.clicker.interaction(payload).status_code == 200
    told = bot.slack.wait_until(lambda: dms(bot.slack, "U0BEN"), what="the click's answer")
    assert told == ["Approved production (1 of 2); waiting for 1 more approver."]
    assert bot.card_message(having="approved by <@U0BEN> (1 of 2)")
    assert [(e["slack_user"], e["action"], e["result"]) for e in bot.audit()] == [
        ("U0BEN", "card.approve", "ok")]
    # ana wrote it: her tab offers no Approve.
    ana = open_home(bot.bot, bot.slack, "U0ANA", count=2)
    assert "card.approve" not in str(ana["blocks"])


def test_the_me_page_shows_the_home_tabs_sections(bot: TestBot) -> None:
    from tests.web_client import OUTSIDE, sign_in_with_slack

    bot.deliver("pull_request", fresh_pr(bot))
    me(bot, "dm-failures on")
    with bot.web(client=OUTSIDE) as web:
        assert web.get("/me", follow_redirects=False).status_code == 303  # sign in first
        sign_in_with_slack(web, "U0ANA", "Ana")
        page = web.get("/me")
    assert page.status_code == 200, page.text
    for section in ("Your open pull requests", "Reviews asked of you",
                    "Deploys waiting for your approval", "Your recent deploys",
                    "Your notifications"):
        assert section in page.text
    assert "Add login page" in page.text and f"{REPO}#12" in page.text
    assert "DM me when my commits fail (dm-failures): on" in page.text


def test_my_page_changes_only_my_own_settings_audits_each_and_refreshes_my_home_tab(
        bot: TestBot, slack: FakeSlack) -> None:
    from tests.web_client import OUTSIDE, sign_in_with_slack

    open_home(bot, slack, "U0ANA")
    with bot.web(client=OUTSIDE) as web:
        # Nobody signed in, or a post from another site: refused, nothing changed.
        refused = web.post("/me/prefs", data={"name": "dm-failures", "value": "on"},
                           follow_redirects=False)
        assert refused.status_code == 403 and "\n" not in refused.json()["detail"]
        sign_in_with_slack(web, "U0ANA", "Ana")
        page = web.get("/me")
        assert page.text.count(">Turn on</button>") == 3
        forged = web.post("/me/prefs", data={"name": "dm-failures", "value": "on"},
                          headers={"origin": "https://elsewhere.example"},
                          follow_redirects=False)
        assert forged.status_code == 403

        # A switch: mine only, whatever user the form names.
        done = web.post("/me/prefs", data={"name": "dm-failures", "value": "on",
                                           "user": "U0BEN"}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"].startswith("/me?notice=")
        page = web.get(done.headers["location"])
        assert "Done: dm-failures on." in page.text
        assert "DM me when my commits fail (dm-failures): on" in page.text
        assert page.text.count(">Turn on</button>") == 2 and ">Turn off</button>" in page.text
        slack.wait_until(lambda: "DMs on failures: on" in str(slack.home_view("U0ANA")),
                         what="ana's Home tab showing the change")

        # Quiet hours: words it cannot read are said back, and change nothing.
        bad = web.get(web.post("/me/prefs", data={"name": "quiet", "value": "25:00-1"},
                               follow_redirects=False).headers["location"])
        assert "is not a span of hours" in bad.text
        empty = web.get(web.post("/me/prefs", data={"name": "mute-own", "value": ""},
                                 follow_redirects=False).headers["location"])
        assert "Say on or off" in empty.text
        web.post("/me/prefs", data={"name": "quiet", "value": "22:00-07:30"})
        assert "Quiet hours, no pings then, one digest after (quiet): 22:00-07:30" in web.get(
            "/me").text
        unknown = web.post("/me/prefs", data={"name": "admin", "value": "on"},
                           follow_redirects=False)
        assert unknown.status_code == 400
    assert "(`dm-failures`): *off*" in me(bot, user="U0BEN")
    assert "(`dm-failures`): *on*" in me(bot)
    assert audit(bot) == [("U0ANA", "prefs", "ok", "dm-failures on (web)"),
                          ("U0ANA", "prefs", "ok", "quiet 22:00-07:30 (web)")]


@pytest.mark.parametrize("muted", [True, False])
def test_with_mute_own_the_failure_of_a_rerun_i_clicked_does_not_ping_me(
        make_bot: BotFactory, fake_github: FakeGitHub, fake_jenkins: FakeJenkins,
        muted: bool) -> None:
    fake_jenkins.add_job("octo-app-integration", parameters={"TARGET_ENV": "dev"})
    fake_jenkins.add_build("octo-app-integration", number=412, result="FAILURE",
                           parameters={"TARGET_ENV": "test"},
                           checkouts=[Checkout(REMOTE, HEAD, "origin/feature/login")])
    bot = start_bot(make_bot, fake_github, fake_jenkins)
    me(bot.bot, "dm-failures on")
    me(bot.bot, f"mute-own {'on' if muted else 'off'}")
    bot.bot.deliver("push", load_fixture("push"))  # ana's commit
    failed = failed_build()
    bot.bot.jenkins.notify(failed)
    bot.bot.settle()
    (first,) = bot.bot.thread()
    assert first.text.startswith("<@U0ANA>")  # her commit failed: she hears, muted or not
    assert len(dms(bot.slack, "U0ANA")) == 1
    assert reply_to_retry(bot, "octo-app-integration").startswith("Re-running")
    again = copy.deepcopy(failed)  # the build her click started fails as well
    again["build"].update(number=413, url="job/octo-app-integration/413/",
                          full_url="https://jenkins.octo-app.example.com/job/"
                                   "octo-app-integration/413/",
                          timestamp=failed["build"]["timestamp"] + 600_000)
    bot.bot.jenkins.notify(again)
    bot.bot.settle()
    (_, second) = bot.bot.thread()
    assert "413" in str(second.blocks)
    assert second.text.startswith("<@U0ANA>") is not muted
    assert len(dms(bot.slack, "U0ANA")) == (1 if muted else 2)
