"""At flush time: what each pending, running or waiting deploy of a card carries over
what is live in its environment, as notes for the card (see `correlation.deploy_contents`),
from the ranges the lookups kept (`devexbot.lookups.deploy_contents`): no GitHub call."""

from __future__ import annotations

import logging

from correlation.card import CommitCard
from correlation.deploy_contents import deploy_contents, render_deploy_contents
from correlation.tickets import TicketRules, github_web_of
from devexbot.lookups.deploy_contents import BEFORE_LIVE, MAX_ENVIRONMENTS
from devexbot.store import Database
from devexbot.store.commit_ranges import CommitRanges
from devexbot.store.environments import live_in

log = logging.getLogger(__name__)



class DeployContentsNotes:
    def __init__(self, db: Database, ranges: CommitRanges, rules: TicketRules) -> None:
        self.db, self.ranges, self.rules = db, ranges, rules

    def notes(self, card: CommitCard) -> list[str]:
        """One line per deployment not yet live; [] when nothing can be said."""
        lines = []
        pending = [d for d in card.deployments if d.status in BEFORE_LIVE]
        for deployment in pending[:MAX_ENVIRONMENTS]:
            with self.db.read() as session:
                live = live_in(session, card.repo, deployment.environment)
            web = github_web_of(card.url, card.repo)
            if live is None:
                # Nothing to compare with; and "nothing is live" may only mean the bot
                # was not there for the deploys before.
                continue
            if live.sha == card.sha:
                contents = deploy_contents(environment=deployment.environment, repo=card.repo,
                                           status="identical", live_sha=live.sha)
            else:
                found = self.ranges.stored(card.repo, live.sha, card.sha)
                if found is None:
                    continue  # not looked up yet: the lookup marks the card when it is
                contents = deploy_contents(
                    environment=deployment.environment, repo=card.repo, status=found.status,
                    live_sha=live.sha, live_url=f"{web}/{card.repo}/commit/{live.sha}",
                    ahead_by=found.ahead_by, behind_by=found.behind_by,
                    commits=found.commits, rules=self.rules, github_web=web)
            lines.append(render_deploy_contents(contents))
        return lines
