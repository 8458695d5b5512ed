"""Where a card goes in a channel that wants one message per pull request (a route with
`per: pull_request`).

The pull request has one top-level message there, showing the card of its current head;
each earlier head's card is a reply in that message's thread, kept current like any
card's message; the merge commit's card (which links the PR) is a reply there too. A
card without a pull request is posted as `per: commit` posts it.

Which head is current is judged on the cards, not on the order their news arrived: a
card whose own PR event says it is the head (it is not superseded) takes the message
only from a head GitHub named earlier (`PullRequest.at`), so an older head whose events
arrive after the newer head's goes to the thread, never over the newer head's card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from correlation.blocks import SlackMessage, first_line
from correlation.card import CommitCard
from correlation.mrkdwn import context, escape, link
from correlation.routing import Per

__all__ = ["HOLD", "Place", "Placement", "PrMessage", "Shown", "placement", "render_moved"]

# A commit pushed to a branch with an open PR waits this long for the PR's event (GitHub
# sends the push and the PR's `synchronize` together): posted first, it would be a
# message of its own beside the PR's.
HOLD = timedelta(seconds=30)


@dataclass(frozen=True)
class PrMessage:
    """A pull request's top-level message in one channel, as stored."""

    ts: str | None  # None while its post is under way
    head_sha: str  # the head whose card it shows (or is being posted with)
    head_at: datetime | None  # when GitHub named that head


@dataclass(frozen=True)
class Shown:
    """The card's message in the channel so far: a top-level message, or a reply in the
    thread of `thread_ts`; `ts` is None while its post is under way."""

    ts: str | None
    thread_ts: str | None = None


class Place(Enum):
    COMMIT = "commit"  # a message of its own, as `per: commit` posts it
    HEAD = "head"  # the pull request's message shows this card
    REPLY = "reply"  # a reply in the pull request's message's thread
    NONE = "none"  # not in this channel: replaced before its PR had a message here
    # Not yet: the PR's message is being posted (by another head's card), or the commit's
    # PR event is still to come.
    WAIT = "wait"


@dataclass(frozen=True)
class Placement:
    place: Place
    # HEAD: the head whose card the PR's message showed until now (it goes to the thread).
    replaces: str | None = None
    # HEAD, no PR message yet: the card's own top-level message becomes the PR's message.
    adopt: bool = False
    # HEAD: the card's own top-level message (posted before its PR was known) is left
    # behind for the PR's: it collapses to a line (`render_moved`).
    leaves: bool = False


def placement(card: CommitCard, per: Per, pr_message: PrMessage | None,
              shown: Shown | None, *, open_pr_on_branch: bool = False,
              waited: timedelta = timedelta(0)) -> Placement:
    """Where `card` goes in a channel whose route posts `per` commit or pull request, given
    the PR's message there (None: none yet) and the card's own message there so far;
    `open_pr_on_branch`: an open PR's head is on the card's branch, `waited`: since the
    card was made."""
    pr = card.pull_request
    if per != "pull_request":
        return Placement(Place.COMMIT)
    if pr is None:
        if open_pr_on_branch and shown is None and waited < HOLD:
            return Placement(Place.WAIT)
        return Placement(Place.COMMIT)
    own_top_level = shown is not None and shown.ts is not None and shown.thread_ts is None \
        and (pr_message is None or shown.ts != pr_message.ts)
    if pr_message is not None and pr_message.ts is None:
        # Its post is under way: only the card posting it goes on; the others wait for it.
        if pr_message.head_sha == card.sha:
            return Placement(Place.HEAD)
        return Placement(Place.COMMIT) if own_top_level else Placement(Place.WAIT)
    head = card.superseded_by is None and pr.head_sha == card.sha
    if head and pr_message is None:
        return Placement(Place.HEAD, adopt=own_top_level)
    if head and pr_message is not None and (
            pr_message.head_sha == card.sha or _newer(pr.at, pr_message.head_at)):
        replaces = None if pr_message.head_sha == card.sha else pr_message.head_sha
        return Placement(Place.HEAD, replaces=replaces, leaves=own_top_level)
    # An earlier head, one GitHub named before the PR's message's, or the merge commit.
    if own_top_level:
        return Placement(Place.COMMIT)  # posted as a commit before its PR was known: kept
    if pr_message is not None:
        return Placement(Place.REPLY)
    if card.superseded_by is None:
        return Placement(Place.COMMIT)  # the merge commit of a PR without a message here
    return Placement(Place.NONE)


def _newer(at: datetime | None, than: datetime | None) -> bool:
    """Whether a head named at `at` is newer than one named at `than`: unknown times
    (a card folded before the times were kept) never take a message from a known one."""
    if at is None:
        return than is None
    return than is None or at > than


def render_moved(card: CommitCard) -> SlackMessage:
    """The one line a commit's own message collapses to once its card moved into its pull
    request's message in the same channel."""
    number = card.pull_request.number if card.pull_request else "?"
    subject = first_line(card.message)
    message = f" {escape(subject, 150)}" if subject else ""
    line = f"⏩ {link(card.url, card.short_sha)}{message} · now in #{number}'s message"
    return SlackMessage(text=f"⏩ {escape(card.repo, 120)} {card.short_sha} is now in "
                        f"#{number}'s message", blocks=[context([line])])
