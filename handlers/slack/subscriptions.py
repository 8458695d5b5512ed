"""`/devex subscribe`, `/devex unsubscribe`, `/devex subscriptions`: routes made in Slack."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from correlation.routing import SubscriptionScope, describe_rules, matches_any
from devexbot.actions.audit import AuditLog
from devexbot.config import Route
from devexbot.publish.routing import subscription_scope
from devexbot.slack.authz import Authorizer
from devexbot.store import Database, Subscription
from handlers.slack.commands import CommandGroup, Invocation, Reply, Subcommand

REPO = re.compile(r"^[A-Za-z0-9_.-]+/(\*|[A-Za-z0-9_.*-]+)$")
USAGE = ("Usage: `/devex subscribe owner/repo [branch-glob ...] [+label:name ...] "
         "[exclude-authors:login,...] [only-authors:login,...] [per:pull_request]`: the "
         "commits on any of the branches and the PRs with any of the labels (neither: every "
         "commit), by the authors asked for (GitHub logins; `*` and `?` are wildcards), one "
         "message per commit or per pull request, e.g. `/devex subscribe octo-org/app main "
         "release/* +label:deploy exclude-authors:dependabot[bot],renovate[bot]`")
GRAMMAR = ("a label is `+label:name`; authors are `exclude-authors:login,...` or "
           "`only-authors:login,...`; `per:` is `commit` or `pull_request`")


def _posts_here(route: Route, inv: Invocation) -> bool:
    """Whether a config route posts to the channel the command was typed in: routes name a
    channel by ID or by `#name`, and Slack sends the command with both."""
    if route.channel == inv.channel_id:
        return True
    name = (inv.channel_name or "").lower()
    return bool(name) and route.channel.removeprefix("#").lower() == name


class Subscriptions(CommandGroup):
    """`/devex subscribe`, `unsubscribe` and `subscriptions`: a channel's own routes, which
    people the config's `permissions.subscribe` allows may change."""

    def __init__(self, db: Database, authorizer: Authorizer, audit: AuditLog, *,
                 allowed: Sequence[str], routes: Sequence[Route]) -> None:
        self._db, self._authorizer, self._audit = db, authorizer, audit
        self._allowed, self._routes = allowed, routes

    def subcommands(self) -> Sequence[Subcommand]:
        return (
            Subcommand("subscribe", "subscribe owner/repo [branch-glob ...] [+label:name ...] "
                       "[exclude-authors:login,...] [only-authors:login,...] "
                       "[per:pull_request]",
                       "post this repo's commit cards in this channel", self.subscribe),
            Subcommand("unsubscribe", "unsubscribe owner/repo",
                       "stop posting this repo's cards in this channel", self.unsubscribe),
            Subcommand("subscriptions", "subscriptions",
                       "list what this channel is subscribed to", self.subscriptions),
        )

    def _refused(self, inv: Invocation, command: str) -> Reply | None:
        """None if the user may change subscriptions; else the reply, and the audit entry."""
        access = self._authorizer.check(inv.user_id, self._allowed)
        if access.allowed:
            return None
        text = ("You may not change this channel's subscriptions: ask someone listed "
                "under `permissions.subscribe` in the bot's config."
                + (f" {access.why_not}." if access.why_not else ""))
        self._audit.refused_command(inv.user_id, f"/devex {command}",
                                    repo=inv.words[0].lower(), channel=inv.channel_id,
                                    detail=text)
        return Reply(text)

    def subscribe(self, inv: Invocation) -> Reply:
        if not inv.words or not REPO.match(inv.words[0]):
            return Reply(USAGE)
        try:
            scope = SubscriptionScope.parse(inv.words[0].lower(), inv.words[1:])
        except ValueError as bad:
            return Reply(f"I can't read `{bad}`: {GRAMMAR}. {USAGE}")
        if refused := self._refused(inv, "subscribe"):
            return refused
        repo = scope.repo
        try:
            with self._db.write() as session:
                session.execute(delete(Subscription).where(Subscription.channel == inv.channel_id,
                                                           Subscription.repo == repo))
                session.add(Subscription(channel=inv.channel_id, repo=repo,
                                         branches=list(scope.branches),
                                         labels=list(scope.labels),
                                         exclude_authors=list(scope.exclude_authors),
                                         only_authors=list(scope.only_authors),
                                         per=scope.per, created_by=inv.user_id))
        except IntegrityError:
            return Reply("Someone changed this subscription at the same moment; try again.")
        text = f"<@{inv.user_id}> subscribed this channel to *{repo}* ({scope.describe()})."
        elsewhere = [r for r in self._routes
                     if matches_any(repo, r.repos) and not _posts_here(r, inv)]
        if elsewhere:
            text += (f"\nNote: the bot's config also posts {repo} to {elsewhere[0].channel}; "
                     "a commit both take gets a message in each channel.")
        return Reply(text, in_channel=True)


    def unsubscribe(self, inv: Invocation) -> Reply:
        if len(inv.words) != 1 or not REPO.match(inv.words[0]):
            return Reply("Usage: `/devex unsubscribe owner/repo`")
        if refused := self._refused(inv, "unsubscribe"):
            return refused
        repo = inv.words[0].lower()
        with self._db.write() as session:
            removed = session.query(Subscription).filter(
                Subscription.channel == inv.channel_id, Subscription.repo == repo
            ).delete(synchronize_session=False)
        if not removed:
            return Reply(f"This channel has no subscription to {repo}. "
                         "`/devex subscriptions` lists what it has.")
        return Reply(f"<@{inv.user_id}> unsubscribed this channel from *{repo}*.", in_channel=True)


    def subscriptions(self, inv: Invocation) -> Reply:
        with self._db.read() as session:
            subs = list(session.scalars(select(Subscription)
                                        .where(Subscription.channel == inv.channel_id)
                                        .order_by(Subscription.repo)))
        lines = []
        for sub in subs:
            scope = subscription_scope(sub).describe()
            lines.append(f"• *{sub.repo}* ({scope}) — by <@{sub.created_by}>")
        for route in self._routes:
            if _posts_here(route, inv):
                lines.append(f"• *{', '.join(route.repos)}* ({describe_rules([route.rule()])})"
                             " — from the bot's config")
        if not lines:
            return Reply("This channel has no subscriptions. "
                         "`/devex subscribe owner/repo` adds one.")
        return Reply("This channel gets commit cards for:\n" + "\n".join(lines))
