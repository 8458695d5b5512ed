"""What the delivery metrics read, kept as deploys happen (events are pruned, these stay):

- `deploy_records`: each deploy that ended in an environment (succeeded or failed), with
  the commit live there before it (`base`) and whether it rolled back;
- `shipped_commits`: each commit's first successful deploy to an environment, with when the
  commit first appeared: the deployed commit at once, the commits it carried over `base`
  once GitHub's compare API said which (`CarriedCommitsLookup`);
- `change_signals`: revert commits and hotfix pull requests, with when they first appeared.

Ingest writes them in the delivery's transaction (`DeliveryRecords`, before
`record_deployments` moves what is live); the figures read them by repo, environment and time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from correlation import Event, Status
from correlation.delivery_metrics import is_rollback, revert_of
from devexbot.store import Card
from devexbot.store.delivery_tables import MAX_TITLE, ChangeSignal, DeployRecord, ShippedCommit
from devexbot.store.environments import live_in
from devexbot.store.upsert import insert_for

ENDED = {Status.SUCCESS: True, Status.FAILURE: False}


class DeliveryRecords:
    """Ingest hook: deploys that ended, the commits they shipped, reverts and hotfixes.
    `hotfix_label`: the pull request label that marks a hotfix (None: none does)."""

    def __init__(self, *, hotfix_label: str | None) -> None:
        self.hotfix_label = hotfix_label.casefold() if hotfix_label else None

    def __call__(self, session: Session, card: Card, events: Sequence[Event],
                 now: datetime) -> None:
        for event in events:
            if event.kind == "deployment" and event.status in ENDED:
                self._deploy(session, card, event, now)
            elif event.kind == "commit" and event.name.startswith("message:"):
                reverts = revert_of(str(event.data.get("value") or ""))
                if reverts is not None:
                    signal(session, card.repo, "revert", card.sha, card.created_at, *reverts)
            elif event.kind in ("pr", "merged_pr") and self._hotfix(event.data):
                signal(session, card.repo, "hotfix", f"#{event.data.get('number')}", event.at)

    def _hotfix(self, data: Mapping[str, Any]) -> bool:
        labels = data.get("labels") or ()
        return self.hotfix_label is not None and any(
            str(label).casefold() == self.hotfix_label for label in labels)

    @staticmethod
    def _deploy(session: Session, card: Card, event: Event, now: datetime) -> None:
        succeeded = ENDED[event.status] if event.status is not None else False
        env_key = event.name.casefold()[:100]
        base, rollback = None, False
        if succeeded:
            live = live_in(session, card.repo, event.name)
            live_sha = live.sha if live is not None and live.since <= event.at else None
            base = live_sha if live_sha != card.sha else None
            rollback = is_rollback(sha=card.sha, live_sha=live_sha, shipped_before=bool(
                session.scalar(select(ShippedCommit.id).where(
                    ShippedCommit.repo == card.repo, ShippedCommit.env_key == env_key,
                    ShippedCommit.sha == card.sha, ShippedCommit.deployed_at < event.at))))
        url = event.data.get("url")
        stmt = insert_for(session, DeployRecord).values(
            repo=card.repo, env_key=env_key, environment=event.name[:100], sha=card.sha,
            succeeded=succeeded, at=event.at, base=base, rollback=rollback,
            carried="pending" if base else "done",
            url=url if isinstance(url, str) and len(url) <= 500 else None,
            card_id=card.id, recorded_at=now)
        deploy_id = session.scalar(stmt.on_conflict_do_nothing(
            index_elements=["repo", "env_key", "sha", "succeeded", "at"]
        ).returning(DeployRecord.id))
        if deploy_id is not None and succeeded:
            ship(session, card.repo, env_key, card.sha, title=(card.doc or {}).get("message"),
                 first_seen=card.created_at, deployed_at=event.at, deploy_id=deploy_id)


def ship(session: Session, repo: str, env_key: str, sha: str, *, title: object,
         first_seen: datetime, deployed_at: datetime, deploy_id: int) -> None:
    """A commit reached the environment: kept if it is its first deploy there."""
    values = {"title": _title(title), "first_seen": first_seen, "deployed_at": deployed_at,
              "deploy_id": deploy_id}
    stmt = insert_for(session, ShippedCommit).values(repo=repo, env_key=env_key, sha=sha,
                                                     **values)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["repo", "env_key", "sha"], set_=values,
        where=ShippedCommit.deployed_at > stmt.excluded.deployed_at))


def signal(session: Session, repo: str, kind: str, ref: str, at: datetime,
           reverts_sha: str | None = None, reverts_title: str | None = None) -> None:
    """A revert or hotfix appeared: kept with the earliest time it was seen."""
    stmt = insert_for(session, ChangeSignal).values(
        repo=repo, kind=kind, ref=ref[:40], at=at, reverts_sha=reverts_sha,
        reverts_title=_title(reverts_title))
    session.execute(stmt.on_conflict_do_update(
        index_elements=["repo", "kind", "ref"], set_={"at": stmt.excluded.at},
        where=ChangeSignal.at > stmt.excluded.at))


def _title(message: object) -> str | None:
    if not isinstance(message, str) or not message.strip():
        return None
    return message.strip().splitlines()[0][:MAX_TITLE]
