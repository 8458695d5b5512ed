"""Which reviews a pull request's author is owed a direct message about (`dm-reviews`):
each approval or request for changes, once, while it is news."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from correlation.blocks import SlackMessage
from correlation.card import CommitCard, iso
from correlation.mrkdwn import clip, escape, link, one_line, section

__all__ = ["REVIEW_NEWS_FOR", "OwedReview", "owed_review_dms"]

# A review older than this is not news: someone turning `dm-reviews` on is not told of
# last week's reviews.
REVIEW_NEWS_FOR = timedelta(days=1)
_WORDS = {"approved": ("✅", "approved"), "changes_requested": ("✋", "requested changes on")}


@dataclass(frozen=True)
class OwedReview:
    login: str  # the reviewer
    key: str  # the notification key recorded once it is sent
    message: SlackMessage


def owed_review_dms(card: CommitCard, sent: Collection[str], now: datetime
                    ) -> list[OwedReview]:
    """The approvals and requests for changes on the card's pull request not told yet."""
    pr = card.pull_request
    if pr is None:
        return []
    owed = []
    for review in pr.reviews:
        if review.state not in _WORDS or now - review.at > REVIEW_NEWS_FOR:
            continue
        key = f"review-dm:{pr.number}:{review.login}:{review.state}:{iso(review.at)}"
        if key in sent:
            continue
        emoji, verb = _WORDS[review.state]
        what = link(pr.url, f"{escape(card.repo, 100)}#{pr.number}")
        title = escape(one_line(pr.title), 150)
        text = clip(f"{emoji} {escape(review.login, 60)} {verb} {what} {title}", 2900)
        owed.append(OwedReview(review.login, key, SlackMessage(text=text,
                                                               blocks=[section(text)])))
    return owed
