"""The order-independent fold of a commit's events into its CommitCard.

A card's state is a map from slot to the winning event of that slot; `join` merges events
into it by keeping, per slot, the event with the greatest precedence. That is a
join-semilattice (commutative, associative, idempotent), so any order and any duplication
of the same events gives the same state, and so the same card.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from correlation.card import (
    Approval,
    Author,
    CheckLine,
    CommitCard,
    DeploymentLine,
    PullRequest,
    Rerun,
    Review,
    Stamp,
)
from correlation.events import Event, Slot
from correlation.merge_queue import MERGE_QUEUE_KIND, merge_queue_of
from correlation.runs import run_lines
from correlation.status import Status, overall
from correlation.tickets import TicketRules, github_web_of, ticket_entries, ticket_refs

CHECK_KINDS = ("check", "status", "workflow", "job", "build")


def join(state: Mapping[Slot, Event], events: Iterable[Event]) -> dict[Slot, Event]:
    """Merge events into a slot map, keeping the greatest event of each slot."""
    merged = dict(state)
    for event in events:
        current = merged.get(event.slot)
        if current is None or event.precedence > current.precedence:
            merged[event.slot] = event
    return merged


def fold(
    events: Iterable[Event],
    *,
    environment_order: Sequence[str] = (),
    ticket_rules: TicketRules | None = None,
) -> CommitCard:
    """Fold one commit's events into its card; the events must share one repo and SHA."""
    events = list(events)
    if not events:
        raise ValueError("fold needs at least one event")
    keys = {(e.repo, e.sha) for e in events}
    if len(keys) != 1:
        raise ValueError(f"events of several commits cannot fold into one card: {sorted(keys)}")
    repo, sha = keys.pop()
    return build_card(repo, sha, join({}, events), environment_order=environment_order,
                      ticket_rules=ticket_rules)


@dataclass(frozen=True)
class FoldRules:
    """How every reader of a card folds it: the configured order of environments and which
    words are tickets. One value for the whole bot, so Slack, the web and the API agree."""

    environment_order: tuple[str, ...] = ()
    tickets: TicketRules = field(default_factory=TicketRules)

    def card(self, repo: str, sha: str, state: Mapping[Slot, Event]) -> CommitCard:
        """Read a card off a slot map (see `join`) by these rules."""
        return build_card(repo, sha, state, environment_order=self.environment_order,
                          ticket_rules=self.tickets)


def build_card(
    repo: str,
    sha: str,
    state: Mapping[Slot, Event],
    *,
    environment_order: Sequence[str] = (),
    ticket_rules: TicketRules | None = None,
) -> CommitCard:
    """Read a card off a slot map (see `join`); `ticket_rules` says which words in its
    messages, branch names and pull requests are tickets (default: `TicketRules()`)."""
    by_kind: dict[str, list[Event]] = {}
    for event in state.values():
        by_kind.setdefault(event.kind, []).append(event)

    pull_request, superseded_by = _pull_request(sha, by_kind)
    checks = _checks(by_kind)
    deployments = _deployments(by_kind, environment_order)
    url = _commit_field(by_kind, "url")
    return CommitCard(
        repo=repo,
        sha=sha,
        branch=_commit_field(by_kind, "branch"),
        message=_first_line(_commit_field(by_kind, "message")),
        author=_author(_commit_field(by_kind, "author")),
        url=url,
        pull_request=pull_request,
        checks=checks,
        deployments=deployments,
        tickets=_tickets(repo, by_kind, ticket_rules or TicketRules(),
                         url or (pull_request.url if pull_request else None)),
        overall=overall([c.status for c in checks] + [d.status for d in deployments]),
        superseded_by=superseded_by,
        updated_at=max((e.at for e in state.values()), default=None),
        stamps=_stamps(state, by_kind),
        merge_queue=merge_queue_of(by_kind.get(MERGE_QUEUE_KIND, ())),
        reruns=_reruns(state, by_kind),
    )


def _tickets(
    repo: str, by_kind: Mapping[str, list[Event]], rules: TicketRules, url: str | None
) -> tuple[dict[str, Any], ...]:
    """Tickets named anywhere in the commit's messages, branches and pull requests: every
    event of the state counts, so the list does not depend on which source won a field."""
    texts: list[str] = []
    branches: list[str] = []
    for event in by_kind.get("commit", ()):
        value = event.data.get("value")
        if isinstance(value, str):
            field = event.name.split(":", 1)[0]
            if field == "message":
                texts.append(value)
            elif field == "branch":
                branches.append(value)
    pulls = [*by_kind.get("pr", ()), *by_kind.get("merged_pr", ())]
    for event in pulls:
        texts += [v for v in (event.data.get("title"), event.data.get("body"))
                  if isinstance(v, str)]
        if isinstance(event.data.get("head_ref"), str):
            branches.append(event.data["head_ref"])
    own = [n for n in (e.data.get("number") for e in pulls) if isinstance(n, int)]
    refs = ticket_refs(rules, repo=repo, texts=texts, branches=branches, own_pulls=own)
    return ticket_entries(refs, rules, github_web=github_web_of(url, repo))


def _order(event: Event) -> tuple[Any, ...]:
    """A total order on a state's events: event time, status rank, data, then the slot
    (unique in a state). Generations number the runs of one slot, so they are not compared
    across slots."""
    return (event.moment, event.slot)


def _greatest(events: Iterable[Event]) -> Event | None:
    return max(events, key=_order, default=None)


def _by_name(events: Iterable[Event]) -> dict[str, Event]:
    """The greatest event for each name, whichever source sent it; names are compared
    without case (one tool's `Production` is another's `production`)."""
    chosen: dict[str, Event] = {}
    for event in events:
        key = event.name.casefold()
        if key not in chosen or _order(event) > _order(chosen[key]):
            chosen[key] = event
    return chosen


def _richness(value: Any) -> int:
    if isinstance(value, Mapping):
        return sum(1 for v in value.values() if v)
    return 1 if value else 0


def _commit_field(by_kind: Mapping[str, list[Event]], field: str) -> Any:
    """Commit metadata slots are named `field:origin`; the richest, then latest, wins."""
    candidates = [e for e in by_kind.get("commit", ()) if e.name.split(":", 1)[0] == field]
    winner = max(
        candidates,
        key=lambda e: (_richness(e.data.get("value")), _order(e)),
        default=None,
    )
    return winner.data.get("value") if winner else None


def _first_line(message: Any) -> str | None:
    if not isinstance(message, str):
        return None
    return message.strip().splitlines()[0] if message.strip() else ""


def _author(raw: Any) -> Author | None:
    if not isinstance(raw, Mapping):
        return None
    return Author(login=raw.get("login"), name=raw.get("name"), email=raw.get("email"))


def _pull_request(
    sha: str, by_kind: Mapping[str, list[Event]]
) -> tuple[PullRequest | None, str | None]:
    heads = by_kind.get("pr", [])
    # An open PR beats a closed one; then the most recent.
    chosen = max(
        heads,
        key=lambda e: (e.data.get("state") == "open", _order(e)),
        default=None,
    )
    superseded_by = None
    if chosen is None:
        chosen = _greatest(by_kind.get("merged_pr", ()))
    elif chosen.data.get("head_sha") not in (None, sha):
        superseded_by = chosen.data["head_sha"]
    if chosen is None:
        return None, None
    data = chosen.data
    number = int(data["number"])
    return (
        PullRequest(
            number=number,
            title=str(data.get("title") or ""),
            state=str(data.get("state") or "open"),
            url=data.get("url"),
            review=_review(number, data, by_kind.get("review", [])),
            head_sha=data.get("head_sha"),
            draft=bool(data.get("draft")),
            author=data.get("author"),
            base=data.get("base"),
            labels=tuple(data.get("labels") or ()),
            at=chosen.at,
            reviews=_reviews(number, by_kind.get("review", [])),
            requested_reviewers=tuple(data.get("requested_reviewers") or ()),
        ),
        superseded_by,
    )


def _review(number: int, pr: Mapping[str, Any], reviews: list[Event]) -> str | None:
    states = {e.data.get("state") for e in reviews if e.data.get("number") == number}
    if "changes_requested" in states:
        return "changes_requested"
    if "approved" in states:
        return "approved"
    if pr.get("requested_reviewers"):
        return "pending"
    return None


def _reviews(number: int, reviews: list[Event]) -> tuple[Review, ...]:
    found = [Review(str(e.data["login"]), str(e.data.get("state")), e.at) for e in reviews
             if e.data.get("number") == number and e.data.get("login")]
    return tuple(sorted(found, key=lambda r: (r.at, r.login)))


def build_page(url: Any) -> str | None:
    """A Jenkins build's page, however a link to it is spelled."""
    if not isinstance(url, str) or not url:
        return None
    return url.split("?")[0].removesuffix("display/redirect").rstrip("/")


def _checks(by_kind: Mapping[str, list[Event]]) -> tuple[CheckLine, ...]:
    # GitHub Actions reports every job twice, as a workflow job and as a check run:
    # show the job, which knows its workflow.
    job_check_runs = {e.data.get("check_run_id") for e in by_kind.get("job", ())} - {None}
    # Jenkins also reports its builds to GitHub as commit statuses or check runs: show the
    # build, which knows its number, duration and tests.
    build_pages = {build_page(e.data.get("url")) for e in by_kind.get("build", ())} - {None}
    # A workflow's runs on the commit: each trigger's latest, with the jobs of those runs.
    runs = run_lines(by_kind.get("workflow", ()), by_kind.get("job", ()))
    candidates = {**by_kind, "workflow": list(runs.workflows), "job": list(runs.jobs)}
    shown = [
        e
        for kind in CHECK_KINDS
        for e in candidates.get(kind, ())
        if not (kind == "check" and e.data.get("check_run_id") in job_check_runs)
        and not (kind in ("check", "status") and build_page(e.data.get("url")) in build_pages)
    ]

    def name(e: Event) -> str:
        return runs.names.get(e.slot) or str(e.data.get("display_name") or e.name)

    shown.sort(key=lambda e: (e.source, name(e).lower(), e.kind, e.slot))
    return tuple(
        CheckLine(
            source=e.source,
            name=name(e),
            status=e.status or Status.NEUTRAL,
            url=e.data.get("url"),
            updated_at=e.at,
            kind=e.kind,
            summary=e.data.get("summary"),
            details={k: v for k, v in e.data.items() if k not in ("url", "summary")},
            slot=e.slot,
        )
        for e in shown
    )


def _deployments(
    by_kind: Mapping[str, list[Event]], environment_order: Sequence[str]
) -> tuple[DeploymentLine, ...]:
    deployments = _by_name(by_kind.get("deployment", ()))
    approvals = _by_name(by_kind.get("approval", ()))
    # Who decided, per environment and decision: an approval shows those of its own state.
    approvers: dict[tuple[str, str], set[str]] = {}
    for e in by_kind.get("approver", ()):
        environment, login = e.data.get("environment"), e.data.get("login")
        if environment is not None and login:
            approvers.setdefault((str(environment).casefold(), str(e.data.get("state"))),
                                 set()).add(str(login))

    lines = []
    for key in deployments.keys() | approvals.keys():
        deployment, approval = deployments.get(key), approvals.get(key)
        env = (deployment or approval).name  # type: ignore[union-attr]
        status, url, at = Status.WAITING, None, None
        if deployment is not None:
            status = deployment.status or Status.PENDING
            url, at = deployment.data.get("url"), deployment.at
        # A pending human decision newer than the deployment's own news is what matters.
        if approval is not None and (at is None or approval.at >= at):
            at = approval.at
            if approval.data.get("state") == "waiting":
                status = Status.WAITING
            elif approval.data.get("state") == "approved" and status is Status.WAITING:
                status = Status.PENDING
            elif approval.data.get("state") == "rejected" and not status.finished:
                status = Status.CANCELLED
        assert at is not None
        lines.append(
            DeploymentLine(
                environment=env,
                status=status,
                url=url,
                updated_at=at,
                source=(deployment or approval).source,  # type: ignore[union-attr]
                description=deployment.data.get("description") if deployment else None,
                deployment_id=deployment.data.get("deployment_id") if deployment else None,
                creator=deployment.data.get("creator") if deployment else None,
                approval=(
                    Approval(
                        state=str(approval.data.get("state")),
                        by=tuple(sorted(approvers.get((key, str(approval.data.get("state"))),
                                                      ()))),
                        reviewers=tuple(approval.data.get("reviewers") or ()),
                        comment=approval.data.get("comment"),
                        run_id=approval.data.get("run_id"),
                        request=approval.data.get("request"),
                    )
                    if approval
                    else None
                ),
            )
        )
    order = {env.casefold(): i for i, env in reversed(list(enumerate(environment_order)))}
    return tuple(sorted(lines, key=lambda d: (order.get(d.environment.casefold(), len(order)),
                                              d.environment.casefold(), d.environment)))


def _reruns(state: Mapping[Slot, Event], by_kind: Mapping[str, list[Event]]
            ) -> tuple[Rerun, ...]:
    """The latest Retry of each slot, whether or not its stamp still shows."""
    latest: dict[Slot, Rerun] = {}
    for event in by_kind.get("stamp", ()):
        until = event.data.get("until_news_of")
        if event.data.get("action") != "retry" or not isinstance(until, list | tuple) \
                or len(until) != 3:
            continue
        slot = (str(until[0]), str(until[1]), str(until[2]))
        run_id = state[slot].data.get("run_id") if slot in state else None
        rerun = Rerun(slot, event.data.get("by"), event.at,
                      run_id if isinstance(run_id, int) else None)
        if slot not in latest or (rerun.at, str(rerun.by)) > (latest[slot].at,
                                                              str(latest[slot].by)):
            latest[slot] = rerun
    return tuple(latest[slot] for slot in sorted(latest))


def _stamps(state: Mapping[Slot, Event], by_kind: Mapping[str, list[Event]]) -> tuple[Stamp, ...]:
    """Stamps of actions taken from the card, oldest first. A stamp that waits for news
    ("retried by @ana") goes once the slot it names holds another event than it did when
    the stamp was made (compared by the event's own time, so no two clocks are compared)."""
    shown = []
    for event in by_kind.get("stamp", ()):
        until = event.data.get("until_news_of")
        if isinstance(until, list | tuple) and len(until) == 3:
            news = state.get((str(until[0]), str(until[1]), str(until[2])))
            if news is not None and news.at.isoformat() != event.data.get("seen_at"):
                continue
        shown.append(Stamp(action=str(event.data.get("action") or event.name),
                           text=str(event.data.get("text") or ""),
                           by=event.data.get("by"), at=event.at))
    return tuple(sorted(shown, key=lambda s: (s.at, s.action, s.text)))
