"""What "me" sees — the Slack Home tab and the web workspace's `/me` page: my open pull
requests with their cards' status, what waits for me (reviews asked of me, deploys I may
approve, with the cards' own Approve and Reject buttons), my recent deploys, and my
preferences. One model, built here from plain data, so the two views cannot disagree."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from correlation.button_blocks import ActionId, Button
from correlation.buttons import card_buttons
from correlation.card import CommitCard
from correlation.policies import Policies
from correlation.prefs import NO_PREFS, Prefs
from correlation.status import Status

__all__ = ["ApprovalItem", "DeployItem", "HomeModel", "Me", "PrItem", "home_model"]

MAX_DEPLOYS = 10  # the newest of my deploys the model keeps


@dataclass(frozen=True)
class Me:
    slack_id: str
    login: str | None  # my GitHub login, from the `people:` map; None: the bot can't tell
    name: str | None = None


@dataclass(frozen=True)
class PrItem:
    repo: str
    number: int
    title: str
    url: str | None
    sha: str
    status: Status  # the card's overall status
    review: str | None  # approved | changes_requested | pending | None
    draft: bool = False
    author: str | None = None


@dataclass(frozen=True)
class ApprovalItem:
    repo: str
    sha: str
    environment: str
    title: str  # the PR's title, else the commit's first line
    url: str | None
    buttons: tuple[Button, ...]  # the card's own Approve / Reject for this environment


@dataclass(frozen=True)
class DeployItem:
    repo: str
    sha: str
    environment: str
    status: Status
    url: str | None
    at: datetime


@dataclass(frozen=True)
class HomeModel:
    me: Me
    prs: tuple[PrItem, ...] = ()
    reviews: tuple[PrItem, ...] = ()
    approvals: tuple[ApprovalItem, ...] = ()
    deploys: tuple[DeployItem, ...] = ()
    prefs: Prefs = NO_PREFS


def home_model(me: Me, cards: Iterable[CommitCard], *, policies: Policies, prefs: Prefs,
               approver_of: Collection[str], now: datetime,
               own_approvable: Collection[str] = ()) -> HomeModel:
    """What `me` sees, from `cards` (newest first); `approver_of` names the environments
    whose approval policy lists me, `own_approvable` those where authors may approve their
    own changes (the Approve handler checks again on the click)."""
    login = (me.login or "").lower()
    prs: dict[tuple[str, int], PrItem] = {}
    reviews: dict[tuple[str, int], PrItem] = {}
    approvals: list[ApprovalItem] = []
    deploys: list[DeployItem] = []
    for card in cards:
        pr = card.pull_request
        is_head = (pr is not None and pr.state == "open" and pr.head_sha == card.sha
                   and not card.superseded_by)
        if pr is not None and is_head and login:
            item = PrItem(card.repo, pr.number, pr.title, pr.url or card.url, card.sha,
                          card.overall, pr.review, pr.draft, pr.author)
            key = (card.repo, pr.number)
            if (pr.author or "").lower() == login:
                prs.setdefault(key, item)
            elif login in {r.lower() for r in pr.requested_reviewers}:
                reviews.setdefault(key, item)
        mine = bool(login) and _mine(card, login)
        approvals += _approvals(card, policies, [e for e in approver_of if not mine
                                                 or e in own_approvable], now)
        if mine:
            deploys += [DeployItem(card.repo, card.sha, d.environment, d.status, d.url,
                                   d.updated_at)
                        for d in card.deployments if d.status is not Status.WAITING]
    deploys.sort(key=lambda d: d.at, reverse=True)
    return HomeModel(me, tuple(prs.values()), tuple(reviews.values()), tuple(approvals),
                     tuple(deploys[:MAX_DEPLOYS]), prefs)


def _mine(card: CommitCard, login: str) -> bool:
    authors = {card.pull_request.author if card.pull_request else None,
               card.author.login if card.author else None,
               *(d.creator for d in card.deployments)}
    return login in {a.lower() for a in authors if a}


def _approvals(card: CommitCard, policies: Policies, approver_of: Collection[str],
               now: datetime) -> list[ApprovalItem]:
    """The card's Approve and Reject buttons, for the environments I may decide on."""
    by_env: dict[str, list[Button]] = {}
    for element in card_buttons(card, policies, now).elements:
        if isinstance(element, Button) and element.action_id.split(":", 1)[0] in (
                ActionId.APPROVE, ActionId.REJECT):
            env = element.value.target if element.value else None
            if env is not None and env in approver_of:
                by_env.setdefault(env, []).append(element)
    pr = card.pull_request
    title = pr.title if pr else (card.message or card.short_sha)
    url = (pr.url if pr else None) or card.url
    return [ApprovalItem(card.repo, card.sha, env, title, url, tuple(buttons))
            for env, buttons in by_env.items()]
