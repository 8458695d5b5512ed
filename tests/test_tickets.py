"""Ticket references, pure: Jira keys and GitHub issues in messages, branches and PRs; the
card's `tickets`; what a deploy carries, rendered within its caps."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from correlation import Event, fold
from correlation.deploy_contents import deploy_contents, render_deploy_contents
from correlation.deploy_tickets import CarriedCommit, deploy_tickets
from correlation.tickets import TicketRules, ticket_refs
from devexbot.config import parse_config
from devexbot.errors import ConfigError
from devexbot.store.commit_ranges import pull_of_message

REPO = "octo-org/octo-app"
SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
AT = datetime(2026, 11, 20, 10, tzinfo=UTC)


def keys(text: str, rules: TicketRules | None = None, **kw: Any) -> list[str]:
    return (rules or TicketRules()).jira_keys(text, **kw)


@pytest.mark.parametrize(("text", "expected"), [
    ("ABC-123: add login", ["ABC-123"]),
    ("Fix OPS-7 and ABC-12, see ABC-12 again", ["OPS-7", "ABC-12"]),
    ("[ABC-1] (PROJ_2-44) {X2-9}", ["ABC-1", "PROJ_2-44", "X2-9"]),
    ("https://jira.example.com/browse/ABC-123", ["ABC-123"]),
    # things written like keys that are not tickets
    ("Read it as UTF-8, hash with SHA-256, dates in ISO-8601", []),
    ("AES-128, RSA-2048, TLS-1.3, RFC-7231, PEP-8, CVE-2024-1234, GPT-4", []),
    ("HTTP-2 and UCS-2 and MD-5", []),
    # not keys at all
    ("abc-123 lower case", []), ("A-1 one letter", []), ("ABC-0 zero", []),
    ("ABC-0123 leading zero", []), ("XABC-123x glued", []), ("ABC-12a", []),
    ("ABCDEFGHIJK-1 eleven letters", []), ("v1.2-3", []), ("ABC-", []),
])
def test_jira_keys_without_a_project_list(text: str, expected: list[str]) -> None:
    assert keys(text) == expected


def test_a_project_list_keeps_only_its_projects_and_reads_branches_in_any_case() -> None:
    rules = TicketRules(projects=("ABC", "ops"))
    assert keys("ABC-1 OPS-2 XYZ-3 UTF-8", rules) == ["ABC-1", "OPS-2"]
    assert keys("feature/abc-123-login", rules, any_case=True) == ["ABC-123"]
    assert keys("feature/abc-123-login", rules) == []  # lower case only in branch names
    # Without a project list, lower case is never a key, even in a branch.
    assert keys("fix/utf-8-names", any_case=True) == []
    # A configured project is a project, even one on the list of look-alikes.
    assert keys("SHA-12 done", TicketRules(projects=("SHA",))) == ["SHA-12"]


def test_a_custom_pattern_and_ignore_list() -> None:
    rules = TicketRules(pattern=r"\b(?:INC|CHG)[0-9]{5}\b")
    assert keys("Fixes INC01234 per CHG00042 (ABC-1)", rules) == ["INC01234", "CHG00042"]
    assert keys("WIP-3 and ABC-4", TicketRules(ignore=("wip",))) == ["ABC-4"]


def test_the_config_rejects_a_bad_pattern_and_project() -> None:
    with pytest.raises(ConfigError, match=r"tickets.pattern: not a regular expression"):
        parse_config("tickets:\n  pattern: '(['\n")
    with pytest.raises(ConfigError, match=r"tickets.pattern: the pattern matches the empty"):
        parse_config("tickets:\n  pattern: 'x*'\n")
    with pytest.raises(ConfigError, match=r"tickets.projects\[0\]"):
        parse_config("tickets:\n  projects: ['A B']\n")
    with pytest.raises(ConfigError, match=r"tickets.on_deploy.test.transtion"):
        parse_config("tickets:\n  on_deploy:\n    test: {transtion: Done}\n")


@pytest.mark.parametrize(("text", "expected"), [
    ("fixes #12", ["#12"]),
    ("Closes #9. Also see #9 and GH-14", ["#9", "#14"]),
    ("Needs other-org/lib#3 first", ["other-org/lib#3"]),
    ("Merge pull request #40 from octo-org/feature\n\nAdd login (#41)\nfor #5", ["#5"]),
    ("Add login page (#41)", []),  # a squash commit names its own PR
    ("color #ffffff, entity &#12;, heading #, a#1, issue#2, C#7", []),
])
def test_github_issue_references(text: str, expected: list[str]) -> None:
    assert [r.key for r in TicketRules().github_refs(text, repo=REPO)] == expected
    assert TicketRules(github_issues=False).github_refs(text, repo=REPO) == []


def test_refs_are_sorted_and_a_commits_own_pull_request_is_left_out() -> None:
    refs = ticket_refs(TicketRules(), repo=REPO,
                       texts=["OPS-10 then ABC-9, ABC-10", "fixes #3, #12", "x/y#1"],
                       branches=["ABC-2-branch"], own_pulls=[12])
    assert [r.key for r in refs] == ["ABC-2", "ABC-9", "ABC-10", "OPS-10", "#3", "x/y#1"]


def _events() -> list[Event]:
    def ev(kind: str, name: str, **data: Any) -> Event:
        return Event(repo=REPO, sha=SHA, source="github", kind=kind, name=name, at=AT,
                     data=data)

    return [
        ev("commit", "message:push", value="ABC-1 add login\n\nRefs OPS-3, UTF-8"),
        ev("commit", "branch:push", value="feature/abc-7-login"),
        ev("commit", "message:status", value="ABC-1 add login"),
        ev("pr", "12", number=12, title="Login (ABC-2)", body="Closes #9. Part of #12.",
           head_ref="feature/abc-7-login", head_sha=SHA, state="open"),
    ]


def test_the_fold_gives_the_card_its_tickets_in_any_order() -> None:
    rules = TicketRules(projects=("ABC", "OPS"), url="https://jira.example.com")
    events = _events()
    expected = fold(events, ticket_rules=rules).tickets
    assert [t["key"] for t in expected] == ["ABC-1", "ABC-2", "ABC-7", "OPS-3", "#9"]
    assert expected[0] == {"key": "ABC-1", "url": "https://jira.example.com/browse/ABC-1",
                           "title": None, "status": None}
    assert expected[-1]["url"] == f"https://github.com/{REPO}/issues/9"
    shuffled = list(events) * 2
    for seed in range(20):
        random.Random(seed).shuffle(shuffled)
        assert fold(shuffled, ticket_rules=rules).tickets == expected
    # Without a Jira URL, keys are shown without a link.
    assert fold(events).tickets[0] == {"key": "ABC-1", "url": None, "title": None,
                                       "status": None}


@pytest.mark.parametrize(("message", "expected"), [
    ("Merge pull request #14 from octo-org/login\n\nAdd login page", (14, "Add login page")),
    ("Merge pull request #14 from octo-org/login", (14, None)),
    ("Add login page (#15)\n\n* squashed", (15, "Add login page")),
    ("Add login page", None),
])
def test_pull_requests_named_by_merge_and_squash_messages(
        message: str, expected: tuple[int, str | None] | None) -> None:
    assert pull_of_message(message) == expected


def _commits(n: int) -> list[dict[str, Any]]:
    return [{"sha": f"{i:040x}", "message": f"Merge pull request #{100 + i} from o/b\n\nPR {i}",
             "pulls": [{"number": 100 + i, "title": f"Change {i} for ABC-{i}",
                        "url": f"https://github.com/{REPO}/pull/{100 + i}"}]}
            for i in range(1, n + 1)]


def test_what_a_deploy_carries_is_capped_with_more() -> None:
    contents = deploy_contents(environment="production", repo=REPO, status="ahead",
                               live_sha="a" * 40, live_url="https://github.com/x", ahead_by=12,
                               commits=_commits(12),
                               rules=TicketRules(url="https://jira.example.com"))
    line = render_deploy_contents(contents)
    assert line.startswith("📦 *production* gets 12 commits over live <https://github.com/x|"
                           "`aaaaaaa`>: <https://github.com/octo-org/octo-app/pull/112|"
                           "#112 Change 12 for ABC-12> · ")
    assert "#109 Change 9" in line and "#108" not in line  # as many as fit in their share
    assert "+8 more PRs" in line
    assert "🎫 <https://jira.example.com/browse/ABC-1|ABC-1>," in line
    assert line.endswith(", +7 more")  # 12 tickets: as many as fit in their share
    assert len(line) <= 700


def test_what_a_deploy_carries_in_the_other_cases() -> None:
    def line(status: str, **kw: Any) -> str:
        return render_deploy_contents(deploy_contents(environment="staging", repo=REPO,
                                                      status=status, live_sha="b" * 40, **kw))

    assert line("identical") == "📦 *staging* already runs this commit"
    assert line("behind", behind_by=3) == ("⏪ *staging* goes back 3 commits from live "
                                           "`bbbbbbb` (a rollback)")
    assert line("diverged", ahead_by=1, behind_by=2, commits=_commits(1)).startswith(
        "📦 *staging* gets 1 commit over live `bbbbbbb` and loses 2 commits it has: ")
    assert line("ahead", ahead_by=300, commits=_commits(1)).endswith(
        " · +299 commits not listed · 🎫 ABC-1")
    plain = [{"sha": "c" * 40, "message": "Tidy", "pulls": []}]
    assert line("ahead", ahead_by=1, commits=plain).endswith(": no pull requests")


DEPLOYED = "4" * 40
RULES = TicketRules(projects=("ABC", "OPS"))


def carried(sha: str, message: str = "", *, pulls: tuple[dict[str, Any], ...] = (),
            card: tuple[str, ...] | None = None) -> CarriedCommit:
    return CarriedCommit(sha * 40, message=message, pulls=pulls, card_tickets=card)


@pytest.mark.parametrize(("commits", "expected"), [
    # Only its own commit (nothing live to compare with): its card's tickets.
    ([carried("4", card=("ABC-3", "#12"))], [("ABC-3", "4")]),
    # Every commit it brings; a commit the bot never saw: what its message names.
    ([carried("2", card=("ABC-1",)), carried("3", "ABC-2 Password reset (#15)"),
      carried("4", "ABC-3 Remember me", card=("ABC-3",))],
     [("ABC-3", "4"), ("ABC-2", "3"), ("ABC-1", "2")]),
    # A card that only heard of a deploy knows no message: the compare's counts too.
    ([carried("3", "OPS-7 Tidy", card=())], [("OPS-7", "3")]),
    # A pull request's title and body, as GitHub lists them for the commit.
    ([carried("3", "Tidy", pulls=({"number": 5, "title": "ABC-5 x", "body": "and OPS-1"},))],
     [("ABC-5", "3"), ("OPS-1", "3")]),
    # Named twice: once, by the deployed commit if it names it, else the newest that does.
    ([carried("2", "ABC-2 start"), carried("3", "ABC-2 finish"), carried("4", "ABC-2 polish")],
     [("ABC-2", "4")]),
    ([carried("2", "ABC-2 start"), carried("3", "ABC-2 finish"), carried("4", "Tidy")],
     [("ABC-2", "3")]),
    # The same rules as the cards': projects, look-alikes, lower case outside branches.
    ([carried("3", "XYZ-1 UTF-8 abc-4 #7 ABC-6")], [("ABC-6", "3")]),
    ([carried("3", "Merge pull request #14 from octo-org/feature/abc-1-signup")], []),
    ([], []),
])
def test_the_tickets_a_deploy_updates(commits: list[CarriedCommit],
                                      expected: list[tuple[str, str]]) -> None:
    found = deploy_tickets(commits, deployed=DEPLOYED, rules=RULES)
    assert [(t.key, t.commit.sha[0]) for t in found] == expected


def test_the_approval_card_lists_the_tickets_a_deploy_updates() -> None:
    commits = _commits(3)
    listed = deploy_contents(environment="production", repo=REPO, status="ahead",
                             live_sha="a" * 40, ahead_by=3, commits=commits, rules=RULES)
    updated = deploy_tickets([CarriedCommit(c["sha"], c["message"], pulls=tuple(c["pulls"]))
                              for c in commits], deployed=commits[-1]["sha"], rules=RULES)
    assert sorted(key for key, _ in listed.tickets) == sorted(t.key for t in updated)


def test_a_hostile_pull_request_title_stays_inside_its_link() -> None:
    commits = [{"sha": "d" * 40, "message": "x", "pulls": [
        {"number": 1, "title": "<!channel> *bold* " + "a" * 300, "url": "https://x.example"}]}]
    text = render_deploy_contents(deploy_contents(environment="e", repo=REPO, status="ahead",
                                                  live_sha="e" * 40, ahead_by=1,
                                                  commits=commits))
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert len(text) < 400


def test_timestamps_only_matter_through_the_fold() -> None:
    # The same text at another time names the same tickets.
    late = [Event(**{**e.__dict__, "at": e.at + timedelta(hours=1)}) for e in _events()]
    assert fold(late).tickets == fold(_events()).tickets


def test_a_card_with_many_tickets_and_a_long_deploy_note_stays_within_slacks_limits() -> None:
    from correlation.blocks import render_card
    from correlation.status import Status
    from correlation.ticket_replies import TicketFailure, render_ticket_failure
    from tests.cards import card, deployment
    from tests.slack_limits import all_text, assert_valid_message

    hostile = "<!here> " + "é" * 400
    note = render_deploy_contents(deploy_contents(
        environment=hostile, repo=REPO, status="ahead", live_sha="a" * 40, ahead_by=5000,
        commits=[{"sha": "b" * 40, "message": hostile, "pulls": [
            {"number": n, "title": hostile, "url": "https://x.example/" + "p" * 400}
            for n in range(1, 60)]}]))
    tickets = tuple({"key": f"ABC-{n}", "url": "https://jira.example.com/browse/ABC-1",
                     "title": hostile, "status": hostile} for n in range(1, 40))
    c = card(tickets=tickets, deployments=(deployment("production", Status.WAITING),))
    message = render_card(c, notes=["Merged by <@U0ANA>", "Merge unavailable: draft", note])
    assert_valid_message(message)
    assert "Merged by <@U0ANA>" in all_text(message) and "<!here>" not in all_text(message)
    failures = [TicketFailure(f"ABC-{n}", hostile, "move to “Done”", hostile)
                for n in range(1, 30)]
    assert_valid_message(render_ticket_failure(c, failures))
