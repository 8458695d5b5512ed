"""The pure decisions behind `/devex me` and the Home tab, as tables: reading a change,
quiet hours on the person's clock, who hears of what, which reviews are owed a DM, what
the Home tab shows and that it stays within Slack's 100 blocks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from correlation.button_blocks import ActionId
from correlation.card import (
    Approval,
    Author,
    CheckLine,
    CommitCard,
    DeploymentLine,
    PullRequest,
    Rerun,
    Review,
)
from correlation.digest import render_digest
from correlation.home import Me, home_model
from correlation.home_blocks import HOME_MAX_BLOCKS, render_home_view
from correlation.policies import ApprovalPolicy, Policies
from correlation.prefs import (
    PrefChange,
    PrefError,
    PrefName,
    Prefs,
    QuietHours,
    is_quiet,
    parse_pref_change,
    quiet_ends_at,
)
from correlation.recipients import Notice, NoticeKind, Recipients, rerun_by, who_hears
from correlation.review_dms import owed_review_dms
from correlation.status import Status
from tests.fakes.slack_blocks import view_errors

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
NIGHT = QuietHours(time(22, 0), time(8, 0))


@pytest.mark.parametrize(("words", "expected"), [
    ([], None),
    (["dm-failures", "on"], PrefChange(PrefName.DM_FAILURES, on=True)),
    (["DM-Reviews", "OFF"], PrefChange(PrefName.DM_REVIEWS, on=False)),
    (["mute-own", "on"], PrefChange(PrefName.MUTE_OWN, on=True)),
    (["quiet", "22:00-08:00"], PrefChange(PrefName.QUIET, quiet=NIGHT)),
    (["quiet", "9:30-17:45"], PrefChange(PrefName.QUIET,
                                         quiet=QuietHours(time(9, 30), time(17, 45)))),
    (["quiet", "off"], PrefChange(PrefName.QUIET, quiet=None)),
])
def test_a_change_is_read_from_the_words(words: list[str], expected: PrefChange | None) -> None:
    assert parse_pref_change(words) == expected


@pytest.mark.parametrize(("words", "says"), [
    (["loud", "on"], "I don't know the setting `loud`"),
    (["dm-failures"], "takes one word: `on` or `off`"),
    (["dm-failures", "yes"], "`yes` is not `on` or `off`: try `/devex me dm-failures on`"),
    (["quiet", "22-08"], "is not a span of hours: try `/devex me quiet 22:00-08:00`"),
    (["quiet", "25:00-08:00"], "is not a span of hours"),
    (["quiet", "08:00-08:00"], "must start and end at different times"),
    (["quiet", "22:00-08:00", "now"], "takes one word: `22:00-08:00` or `off`"),
])
def test_bad_words_are_one_line_with_a_hint(words: list[str], says: str) -> None:
    with pytest.raises(PrefError) as caught:
        parse_pref_change(words)
    assert says in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(("change", "expected"), [
    (PrefChange(PrefName.DM_FAILURES, on=True), Prefs(dm_failures=True, tz="Europe/Paris")),
    (PrefChange(PrefName.MUTE_OWN, on=True), Prefs(mute_own=True, tz="Europe/Paris")),
    (PrefChange(PrefName.QUIET, quiet=NIGHT), Prefs(quiet=NIGHT, tz="Europe/Paris")),
])
def test_a_change_changes_only_its_setting(change: PrefChange, expected: Prefs) -> None:
    assert change.applied(Prefs(tz="Europe/Paris")) == expected


@pytest.mark.parametrize(("quiet", "tz", "utc", "held", "ends"), [
    (NIGHT, "UTC", "23:00", True, "2026-12-08 08:00"),
    (NIGHT, "UTC", "07:59", True, "2026-12-07 08:00"),
    (NIGHT, "UTC", "08:00", False, None),
    (NIGHT, "UTC", "21:59", False, None),
    # Paris is UTC+1 in December: 21:30 UTC is 22:30 there.
    (NIGHT, "Europe/Paris", "21:30", True, "2026-12-08 07:00"),
    (NIGHT, "Europe/Paris", "07:30", False, None),
    (QuietHours(time(12, 0), time(14, 0)), "UTC", "13:00", True, "2026-12-07 14:00"),
    (QuietHours(time(12, 0), time(14, 0)), "UTC", "14:00", False, None),
    (NIGHT, "Not/AZone", "23:00", True, "2026-12-08 08:00"),  # unknown: UTC
    (None, "UTC", "23:00", False, None),
])
def test_quiet_hours_go_by_the_persons_clock(quiet: QuietHours | None, tz: str, utc: str,
                                             held: bool, ends: str | None) -> None:
    hour, minute = (int(p) for p in utc.split(":"))
    now = NOW.replace(hour=hour, minute=minute)
    prefs = Prefs(quiet=quiet, tz=tz)
    assert is_quiet(prefs, now) is held
    found = quiet_ends_at(prefs, now)
    assert (found.strftime("%Y-%m-%d %H:%M") if found else None) == ends


ANA, BEN = "U0ANA", "U0BEN"
FAILURE = Notice(NoticeKind.FAILURE, about=ANA, mentions=(ANA,))


@pytest.mark.parametrize(("notice", "prefs", "expected"), [
    # Failures: the author is mentioned; a DM where the route or their preference asks.
    (FAILURE, {}, Recipients((ANA,))),
    (FAILURE, {ANA: Prefs(dm_failures=True)}, Recipients((ANA,), (ANA,))),
    (replace(FAILURE, route_dm=True), {}, Recipients((ANA,), (ANA,))),
    (replace(FAILURE, route_dm=True), {ANA: Prefs(dm_failures=False)},
     Recipients((ANA,), (ANA,))),
    (FAILURE, {BEN: Prefs(dm_failures=True)}, Recipients((ANA,))),  # not ben's commit
    # A failure nobody caused by hand is news even with mute-own.
    (FAILURE, {ANA: Prefs(dm_failures=True, mute_own=True)}, Recipients((ANA,), (ANA,))),
    # A re-run ana clicked failing: with mute-own, she is neither mentioned nor messaged.
    (replace(FAILURE, actor=ANA), {ANA: Prefs(dm_failures=True, mute_own=True)},
     Recipients()),
    (replace(FAILURE, actor=ANA), {ANA: Prefs(dm_failures=True)}, Recipients((ANA,), (ANA,))),
    # Reviews: a DM to the PR's author only if they asked.
    (Notice(NoticeKind.REVIEW, about=ANA, actor=BEN), {}, Recipients()),
    (Notice(NoticeKind.REVIEW, about=ANA, actor=BEN), {ANA: Prefs(dm_reviews=True)},
     Recipients((), (ANA,))),
    (Notice(NoticeKind.REVIEW, about=ANA, actor=ANA),
     {ANA: Prefs(dm_reviews=True, mute_own=True)}, Recipients()),
    # An approval request for the deploy ana's push started: not asked of ana if she
    # mutes her own actions; the others still are.
    (Notice(NoticeKind.APPROVAL_REQUEST, actor=ANA, mentions=(ANA, BEN)),
     {ANA: Prefs(mute_own=True)}, Recipients((BEN,))),
    (Notice(NoticeKind.APPROVAL_REQUEST, actor=ANA, mentions=(ANA, BEN)), {},
     Recipients((ANA, BEN))),
    (Notice(NoticeKind.APPROVAL_REQUEST, actor=BEN, mentions=(ANA, BEN)),
     {ANA: Prefs(mute_own=True)}, Recipients((ANA, BEN))),
])
def test_who_hears(notice: Notice, prefs: dict[str, Prefs], expected: Recipients) -> None:
    assert who_hears(notice, prefs) == expected


# Quiet from 22:00 to 08:00 in UTC; NOW is noon UTC.
QUIET = Prefs(quiet=QuietHours(time(22), time(8)))
NIGHT = NOW.replace(hour=23)


@pytest.mark.parametrize(("notice", "prefs", "now", "expected"), [
    # In her quiet hours ana is neither mentioned nor messaged: her digest tells her.
    (FAILURE, {ANA: QUIET}, NIGHT, Recipients(held=(ANA,))),
    (FAILURE, {ANA: replace(QUIET, dm_failures=True)}, NIGHT, Recipients(held=(ANA,))),
    (FAILURE, {ANA: replace(QUIET, dm_failures=True)}, NOW, Recipients((ANA,), (ANA,))),
    (FAILURE, {ANA: QUIET}, None, Recipients((ANA,))),  # no time given: nobody is quiet
    # mute-own comes first: her own re-run failing is not even held.
    (replace(FAILURE, actor=ANA), {ANA: replace(QUIET, mute_own=True)}, NIGHT, Recipients()),
    # Of two approvers, the quiet one waits for the digest; a user group is never quiet.
    (Notice(NoticeKind.APPROVAL_REQUEST, mentions=(ANA, BEN, "S0OPS")), {ANA: QUIET}, NIGHT,
     Recipients((BEN, "S0OPS"), held=(ANA,))),
    (Notice(NoticeKind.REVIEW, about=ANA), {ANA: replace(QUIET, dm_reviews=True)}, NIGHT,
     Recipients(held=(ANA,))),
    (Notice(NoticeKind.REVIEW, about=ANA), {ANA: QUIET}, NIGHT, Recipients()),
    # A try-out's changes asked for: a DM only where the route sends them.
    (Notice(NoticeKind.CHANGES_REQUESTED, about=ANA, mentions=(ANA,)),
     {ANA: Prefs(dm_failures=True)}, NOW, Recipients((ANA,))),
    (Notice(NoticeKind.CHANGES_REQUESTED, about=ANA, mentions=(ANA,), route_dm=True), {},
     NOW, Recipients((ANA,), (ANA,))),
    # A nudge pings who is not quiet (ThreadNudges waits for the rest rather than hold it).
    (Notice(NoticeKind.NUDGE, mentions=(ANA, BEN)), {BEN: QUIET}, NIGHT,
     Recipients((ANA,), held=(BEN,))),
])
def test_who_hears_in_quiet_hours(notice: Notice, prefs: dict[str, Prefs],
                                  now: datetime | None, expected: Recipients) -> None:
    assert who_hears(notice, prefs, now) == expected


BUILD = ("jenkins", "build", "octo-app")
JOB = ("github", "job", "CI / test")
WORKFLOW = ("github", "workflow", "CI")


def _failed(slot: tuple[str, str, str], **details: object) -> CheckLine:
    return CheckLine(slot[0], slot[2], Status.FAILURE, None, NOW, kind=slot[1],
                     details=dict(details), slot=slot)


@pytest.mark.parametrize(("reruns", "checks", "deployments", "actor"), [
    ((Rerun(BUILD, ANA, NOW),), [_failed(BUILD)], (), ANA),  # ana's Retry failed again
    ((), [_failed(BUILD)], (), None),  # nobody re-ran it: CI's news
    ((Rerun(BUILD, ANA, NOW),), [_failed(BUILD), _failed(JOB, run_id=7)], (), None),
    # An Actions re-run: the workflow line's slot was re-run; its jobs share the run id.
    ((Rerun(WORKFLOW, BEN, NOW, run_id=7),), [_failed(JOB, run_id=7), _failed(WORKFLOW)],
     (), BEN),
    ((Rerun(WORKFLOW, BEN, NOW, run_id=7),), [_failed(JOB, run_id=8)], (), None),
    ((Rerun(BUILD, ANA, NOW),), [_failed(BUILD)],
     (DeploymentLine("test", Status.FAILURE, None, NOW),), None),  # a deploy failed too
])
def test_who_caused_a_failure_by_clicking_retry(reruns: tuple[Rerun, ...],
                                                checks: list[CheckLine],
                                                deployments: tuple[DeploymentLine, ...],
                                                actor: str | None) -> None:
    assert rerun_by(reruns, checks, deployments) == actor


def _pr_card(number: int, *, author: str = "ana", sha: str | None = None,
             reviews: tuple[Review, ...] = (), requested: tuple[str, ...] = (),
             status: Status = Status.SUCCESS, repo: str = "octo-org/app") -> CommitCard:
    sha = sha or f"{number:040x}"
    return CommitCard(repo=repo, sha=sha, author=Author(author, author.title()),
                      pull_request=PullRequest(number, f"Change {number}", "open",
                                               f"https://github.com/{repo}/pull/{number}",
                                               None, head_sha=sha, author=author,
                                               reviews=reviews,
                                               requested_reviewers=requested),
                      overall=status, updated_at=NOW)


@pytest.mark.parametrize(("review", "sent", "owed"), [
    (Review("ben", "approved", NOW - timedelta(minutes=1)), set(), True),
    (Review("ben", "changes_requested", NOW), set(), True),
    (Review("ben", "dismissed", NOW), set(), False),
    (Review("ben", "approved", NOW - timedelta(days=2)), set(), False),  # old news
    (Review("ben", "approved", NOW),
     {"review-dm:7:ben:approved:2026-12-07T12:00:00Z"}, False),  # told already
])
def test_review_dms_owed(review: Review, sent: set[str], owed: bool) -> None:
    found = owed_review_dms(_pr_card(7, reviews=(review,)), sent, NOW)
    assert bool(found) is owed
    if owed:
        assert "ben" in found[0].message.text and "octo-org/app#7" in found[0].message.text


def _waiting(card: CommitCard, env: str = "production") -> CommitCard:
    return replace(card, deployments=(DeploymentLine(env, Status.WAITING, None, NOW,
                                                     approval=Approval("waiting")),))


POLICIES = Policies(approvals=(ApprovalPolicy("production"),))


def test_the_home_model_sorts_cards_into_my_sections() -> None:
    mine = _pr_card(1, status=Status.FAILURE)
    to_review = _pr_card(2, author="ben", requested=("Ana",))
    waiting = _waiting(_pr_card(3, author="carol"))
    other_env = _waiting(_pr_card(4, author="carol"), "staging")
    deployed = replace(_pr_card(5), deployments=(
        DeploymentLine("staging", Status.SUCCESS, "https://x.example/5", NOW),))
    older_head = replace(_pr_card(1, sha="f" * 40), superseded_by=mine.sha)
    model = home_model(Me("U0ANA", "ana"), [mine, to_review, waiting, other_env, deployed,
                                            older_head],
                       policies=POLICIES, prefs=Prefs(dm_failures=True),
                       approver_of={"production"}, now=NOW)
    assert [(p.number, p.status) for p in model.prs] == [(1, Status.FAILURE),
                                                         (5, Status.SUCCESS)]
    assert [p.number for p in model.reviews] == [2]
    (approval,) = model.approvals
    assert (approval.repo, approval.environment) == ("octo-org/app", "production")
    # The card's own buttons: the same action ids and values, so its handlers act on them.
    assert [b.action_id for b in approval.buttons] == [f"{ActionId.APPROVE}:production",
                                                       f"{ActionId.REJECT}:production"]
    assert [(d.environment, d.status) for d in model.deploys] == [("staging", Status.SUCCESS)]
    assert model.prefs.dm_failures


@pytest.mark.parametrize(("own_approvable", "offered"), [((), False), (("production",), True)])
def test_my_own_change_is_not_offered_for_my_approval_unless_authors_may(
        own_approvable: tuple[str, ...], offered: bool) -> None:
    model = home_model(Me("U0ANA", "ana"), [_waiting(_pr_card(3))], policies=POLICIES,
                       prefs=Prefs(), approver_of={"production"}, now=NOW,
                       own_approvable=own_approvable)
    assert bool(model.approvals) is offered


def test_someone_the_bot_cannot_name_on_github_sees_no_prs() -> None:
    model = home_model(Me("U0X", None), [_pr_card(1)], policies=POLICIES, prefs=Prefs(),
                       approver_of=set(), now=NOW)
    assert model.prs == () and model.reviews == ()


def test_the_home_tab_folds_what_does_not_fit_into_100_blocks() -> None:
    cards = [_pr_card(n) for n in range(1, 151)]
    cards += [_pr_card(n, author="ben", requested=("ana",)) for n in range(200, 260)]
    cards += [_waiting(_pr_card(n, author="carol")) for n in range(300, 360)]
    model = home_model(Me("U0ANA", "ana"), cards, policies=POLICIES, prefs=Prefs(quiet=NIGHT),
                       approver_of={"production"}, now=NOW)
    view = render_home_view(model)
    assert view["type"] == "home"
    assert len(view["blocks"]) <= HOME_MAX_BLOCKS
    assert view_errors(view) == []  # as Slack checks it
    texts = str(view["blocks"])
    assert "Your open pull requests (150)" in texts and "and 135 more" in texts
    assert "Reviews asked of you (60)" in texts and "and 50 more" in texts
    assert "Deploys waiting for your approval (60)" in texts and "and 45 more" in texts


def test_the_digest_tells_each_held_message_within_50_blocks() -> None:
    held = [(NOW + timedelta(minutes=i), f"❌ failure {i}") for i in range(60)]
    digest = render_digest(held)
    assert digest.text == "While your quiet hours lasted: 60 messages"
    assert len(digest.blocks) == 47 and "and 15 more" in str(digest.blocks[-1])
    assert "failure 0" in str(digest.blocks[1])
