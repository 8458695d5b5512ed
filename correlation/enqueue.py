"""Adding a pull request to GitHub's merge queue from its card: where the base branch's rules
take pull requests only through the queue, the card offers "Add to merge queue" instead of
Merge (`correlation.buttons`), and the click (`devexbot.actions.enqueue`) is judged here.

Decided once, from plain facts: the card, what the repository's rules require as last read,
and what GitHub says of the pull request at click time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from correlation.card import CommitCard
from correlation.merge_methods import RepoMergeSettings

__all__ = ["ENQUEUE_LABEL", "claim_round", "github_errors", "in_queue", "queue_offered"]

ENQUEUE_LABEL = "Add to merge queue"
MAX_ERROR_LINE = 300


def queue_offered(card: CommitCard, settings: RepoMergeSettings | None) -> bool:
    """The card's merge offer is "Add to merge queue": its pull request's base branch takes
    pull requests only through the queue, as the repository's rules were last read."""
    pr = card.pull_request
    return pr is not None and settings is not None and settings.requires_queue(pr.base)


def in_queue(card: CommitCard) -> bool:
    """The pull request is in the merge queue as the card knows it: GitHub said it entered,
    or someone added it from the card since the queue's last news (GitHub's own news of it
    is on its way)."""
    queue = card.merge_queue
    if queue is not None and queue.state == "queued":
        return True
    return any(stamp.action == "enqueue" and (queue is None or stamp.at > queue.at)
               for stamp in card.stamps)


def claim_round(card: CommitCard) -> str:
    """What tells one stay in the queue from the next: a pull request dequeued (a queue
    check failed) may be added again at the same commit, once the queue's news is in."""
    queue = card.merge_queue
    return queue.at.isoformat() if queue is not None else "first"


def github_errors(errors: Iterable[Mapping[str, object]] | None) -> str:
    """GitHub's GraphQL errors in its own words, on one line."""
    messages = []
    for error in errors or ():
        message = " ".join(str(error.get("message") or "").split())
        if message and message not in messages:
            messages.append(message)
    line = "; ".join(messages) or "GitHub gave no reason"
    return line if len(line) <= MAX_ERROR_LINE else line[: MAX_ERROR_LINE - 1] + "…"
