"""Approval policies in the config, and the pure parts of approvals: which request a
deployment line stands for, parameter templates, and how decisions show on the card."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from correlation.approval_request import ago, request_for, substitute, template_values
from correlation.authorship import Authorship, SelfApproval, change_authors, self_approval
from correlation.blocks import render_card
from correlation.button_blocks import button_elements
from correlation.buttons import card_buttons
from correlation.card import Approval, Author, PullRequest
from correlation.status import Status
from devexbot.config import OnCallback, OnJenkins, load_config, parse_config
from devexbot.errors import ConfigError
from tests.cards import AT, card, check, deployment

EXAMPLE = Path(__file__).parent.parent / "config" / "devexbot.example.yaml"


def test_the_example_config_has_approval_policies() -> None:
    config = load_config(EXAMPLE, required=True)
    production = config.approval_policy("Production")
    assert production is not None
    assert (production.required, production.allow_author, production.authors_may_approve,
            production.expires_after) == (2, False, False, timedelta(hours=24))
    assert isinstance(production.on_approve, OnJenkins)
    test = config.approval_policy("test")
    assert test is not None and test.notify == "pr_author" and test.authors_may_approve


@pytest.mark.parametrize("on_approve, kind", [
    ("github", str),
    ("{jenkins: {job: promote, parameters: {SHA: '{sha}'}}}", OnJenkins),
    ("{callback: 'https://deploy.example.com/approve'}", OnCallback),
])
def test_on_approve_forms(on_approve: str, kind: type) -> None:
    config = parse_config(f"approvals:\n  prod:\n    approvers: ['*']\n"
                          f"    on_approve: {on_approve}\n")
    policy = config.approvals["prod"]
    assert isinstance(policy.on_approve, kind)


@pytest.mark.parametrize("text, seconds", [
    ("90s", 90), ("30m", 1800), ("24h", 86400), ("2d", 172800), ("1w", 604800),
    ("1h30m", 5400), (3600, 3600),
])
def test_durations(text: object, seconds: int) -> None:
    config = parse_config(f"approvals:\n  prod:\n    approvers: ['*']\n"
                          f"    expires_after: {text}\n")
    assert config.approvals["prod"].expires_after == timedelta(seconds=seconds)


@pytest.mark.parametrize("policy, line, fragment", [
    ("approvers: [U0A]\n    required: 2", 3,
     "approvals.prod: required is 2, but only 1 approvers are listed"),
    ("approvers: []", 3, "approvals.prod.approvers: List should have at least 1 item"),
    ("approvers: [ben]", 3, "'ben' is not a principal — use *, a Slack user id (U…), a user "
                              "group (S… or @handle), github:<login> or github-team:<org>/<team> "
                              "(a GitHub user is github:ben)"),
    ("approvers: ['*']\n    expires_after: soon", 4, "not a duration: 'soon'"),
    ("approvers: ['*']\n    on_approve: gitlab", 4, "on_approve.github: Input should be"),
    ("approvers: ['*']\n    on_approve: {ftp: x}", 4,
     "on_approve: must be github, {jenkins: {job: ..., parameters: {...}}} or {callback"),
    ("approvers: ['*']\n    on_approve: {jenkins: {job: p, parameters: {A: '{sha.__class__}'}}}",
     4, "{sha.__class__} is not one of {sha}, {short_sha}, {repo}, {environment}, {pr}"),
    ("approvers: ['*']\n    on_approve: {jenkins: {job: p, parameters: {A: '{sha!r}'}}}",
     4, "is not one of"),
    ("approvers: ['*']\n    on_approve: {jenkins: {job: p, parameters: {A: '{branch}'}}}",
     4, "{branch} is not one of"),
    ("approvers: ['*']\n    on_approve: {callback: 'file:///etc/passwd'}", 4,
     "on_approve.callback.callback: String should match pattern"),
    ("approvers: ['*']\n    notify: everyone", 4, "approvals.prod.notify: Input should be"),
    ("approvers: ['*']\n    alow_author: true", 4, "alow_author: Extra inputs"),
])
def test_policy_mistakes_name_the_line(policy: str, line: int, fragment: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(f"approvals:\n  prod:\n    {policy}\n", source="c.yaml")
    assert raised.value.message.startswith(f"c.yaml:{line}: ")
    assert fragment in raised.value.message


def test_groups_and_teams_may_be_fewer_than_required() -> None:
    config = parse_config("approvals:\n  prod:\n    approvers: ['@sre', 'github-team:o/sre']\n"
                          "    required: 3\n")
    assert config.approvals["prod"].required == 3


def test_parameters_are_substituted_from_a_fixed_set_and_nothing_else() -> None:
    c = card(pull_request=PullRequest(12, "Add login", "open", None, None),
             deployments=(deployment("production", Status.WAITING),))
    request = request_for(c, c.deployments[0], None)
    assert request is not None
    values = template_values(c, request)
    assert substitute("{repo}@{short_sha} to {environment} (#{pr}) {{sha}}", values) == (
        "octo-org/octo-app@6dcb09b to production (#12) {sha}")
    assert substitute("{sha}", values) == c.sha


def test_a_request_is_keyed_by_its_run_attempt_or_deployment() -> None:
    waiting = deployment("production", Status.WAITING, deployment_id="99",
                         approval=Approval("waiting", run_id=7))
    c = card(deployments=(waiting,),
             checks=(check("CI / deploy", Status.WAITING, kind="job",
                           details={"run_id": 7, "run_attempt": 2}),))
    request = request_for(c, waiting, None)
    assert request is not None and request.key.endswith(":production:run-7.2")
    generic = deployment("Staging", Status.WAITING, deployment_id="d-1", source="deploy")
    request = request_for(card(deployments=(generic,)), generic, None)
    assert request is not None and request.key.endswith(":staging:deployment-d-1")
    assert request_for(card(), deployment("staging", Status.SUCCESS), None) is None


def test_a_decided_request_is_no_longer_open() -> None:
    waiting = deployment("production", Status.WAITING, source="deploy")
    key = request_for(card(deployments=(waiting,)), waiting, None).key  # type: ignore[union-attr]
    for state, still_open in (("expired", True), ("rejected", False), ("approved", False)):
        line = deployment("production", Status.WAITING, source="deploy",
                          approval=Approval(state, request=key))
        assert (request_for(card(deployments=(line,)), line, None) is not None) is still_open


def test_decisions_and_expiry_show_on_the_deployment_line() -> None:
    lines = {
        "approved": deployment("production", Status.PENDING,
                               approval=Approval("approved", by=("U0BEN", "ben"))),
        "rejected": deployment("staging", Status.CANCELLED,
                               approval=Approval("rejected", by=("U0BEN",), comment="no <b>")),
        "changes": deployment("test", Status.SUCCESS,
                              approval=Approval("rejected", by=("U0CAROL",), comment="Sign in")),
        "expired": deployment("qa", Status.WAITING, approval=Approval("expired")),
    }
    text = str(render_card(card(deployments=tuple(lines.values()))).blocks)
    assert "pending · approved by <@U0BEN>, ben" in text
    assert "rejected by <@U0BEN>: no &lt;b&gt;" in text
    assert "deployed · changes requested by <@U0CAROL>: Sign in" in text
    assert "waiting · approval request expired" in text


def test_buttons_follow_the_policy() -> None:
    config = parse_config("approvals:\n  production:\n    approvers: ['*']\n    required: 2\n"
                          "    expires_after: 1h\n")
    waiting = (deployment("production", Status.WAITING, source="deploy"),
               deployment("staging", Status.WAITING, source="deploy"))
    c = card(deployments=waiting)
    buttons = card_buttons(c, config.policies(), AT + timedelta(minutes=30))
    assert [b["text"]["text"] for b in button_elements(buttons.elements)] == [
        "Approve production", "Reject production"]
    assert buttons.notes == ("production needs 2 approvals",
                             "staging: decide where it waits (the bot has no approval policy "
                             "for it)")
    later = card_buttons(c, config.policies(), AT + timedelta(hours=2))
    assert later.elements == ()
    assert later.notes[0] == "⌛ production: the approval request expired"


@pytest.mark.parametrize("span, words", [
    (timedelta(seconds=45), "45s"), (timedelta(hours=2, minutes=5), "2h 5m"),
    (timedelta(days=2, hours=4, minutes=1), "2d 4h"), (timedelta(0), "0s"),
])
def test_ago(span: timedelta, words: str) -> None:
    assert ago(span) == words


# --- who wrote the change, and whether its author may approve it --------------------------

PR_BY_ANA = PullRequest(12, "Add login", "open", None, None, author="ana")


@pytest.mark.parametrize("fields, from_github, authors", [
    ({"pull_request": PR_BY_ANA, "author": Author("ben", "Ben")}, "carol", ("ana", "ben")),
    ({"author": Author("ben", "Ben")}, "carol", ("ben",)),  # the card's word first
    ({"author": None}, "carol", ("carol",)),  # then GitHub's commit author
    ({"author": None}, None, ("dan",)),  # then the deployment's creator
    ({"author": None}, "github-actions[bot]", ("dan",)),  # a bot wrote nothing
    ({"author": Author(None, "Ana", "ana@example.com")}, None, ("dan",)),
    ({"author": None, "deployments": ()}, None, ()),
])
def test_the_authors_come_from_the_best_source_that_names_one(
    fields: dict[str, object], from_github: str | None, authors: tuple[str, ...]
) -> None:
    fields.setdefault("deployments", (
        deployment("production", Status.WAITING, creator="dan"),
        deployment("staging", Status.SUCCESS, creator="erin"),
        deployment("test", Status.SUCCESS, creator="ci-app[bot]"),
    ))
    assert change_authors(card(**fields), "production", from_github) == authors


ALLOWED, OWN, UNKNOWN = (SelfApproval.ALLOWED, SelfApproval.OWN_CHANGE,
                         SelfApproval.UNKNOWN_AUTHOR)


@pytest.mark.parametrize("authorship, user, login, may, unknown_ok, verdict", [
    (Authorship(("ana",), ("U0ANA",)), "U0BEN", "ben", False, False, ALLOWED),
    (Authorship(("ana",), ("U0ANA",)), "U0ANA", "ana", False, False, OWN),
    (Authorship(("Ana",), ()), "U0ANA", "ana", False, False, OWN),  # logins without case
    (Authorship(("ana",), ("U0ANA",)), "U0ANA", None, False, False, OWN),  # by Slack id
    (Authorship((), ("U0ANA",), "ana@example.com"), "U0ANA", None, False, False, OWN),
    (Authorship((), (), "ana@example.com"), "U0BEN", None, False, False, ALLOWED),
    (Authorship(("ana",), ("U0ANA",)), "U0ANA", "ana", True, False, ALLOWED),  # allow_author
    # Nobody can tell who wrote it: refused, unless the policy says it may be approved.
    (Authorship(), "U0BEN", "ben", False, False, UNKNOWN),
    (Authorship(), "U0BEN", "ben", False, True, ALLOWED),
    (Authorship(), "U0BEN", "ben", True, False, ALLOWED),
])
def test_whether_an_approver_may_approve_a_change_they_may_have_written(
    authorship: Authorship, user: str, login: str | None, may: bool, unknown_ok: bool,
    verdict: SelfApproval,
) -> None:
    assert self_approval(authorship, user=user, user_login=login, authors_may_approve=may,
                         allow_unknown_author=unknown_ok) is verdict


def test_allow_unknown_author_is_off_unless_the_policy_says_so() -> None:
    config = parse_config("approvals:\n  prod:\n    approvers: ['*']\n"
                          "  qa:\n    approvers: ['*']\n    allow_unknown_author: true\n")
    assert not config.approvals["prod"].allow_unknown_author
    assert config.approvals["qa"].allow_unknown_author
