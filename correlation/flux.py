"""Flux notification-controller's `generic` / `generic-hmac` event to a deploy Event.

Flux posts its `Event` (github.com/fluxcd/pkg/apis/event/v1beta1) as it is:

```json
{"involvedObject": {"kind": "Kustomization", "namespace": "flux-system", "name": "apps",
                    "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "uid": "..."},
 "severity": "info", "timestamp": "2026-01-01T12:00:00Z",
 "message": "...", "reason": "ReconciliationSucceeded",
 "metadata": {"revision": "main@sha1:<40 hex>"},
 "reportingController": "kustomize-controller", "reportingInstance": "..."}
```

The event names no repository, so the repository (and the environment) come from the
event's metadata (the Alert's `.spec.eventMetadata`: `repository`, `environment`), else
from the first `flux.objects` rule of the config matching `<namespace>/<name>`; the
environment defaults to the object's name. An event of no commit, or of an object mapped
to no repository, is kept unattached; a reason that is no deploy state is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase

from correlation.deploy import MAX_ENVIRONMENT, deploy_delivery_id
from correlation.events import Event, ParseError, normalise_repo, parse_time
from correlation.payload import Fields
from correlation.scm import ScmRepos
from correlation.status import DEPLOY_WEBHOOK_STATES

SOURCE = "deploy"  # a Flux deploy is a deploy like any other on the card
MAX_DESCRIPTION = 300
# Flux's keys for the revision, in the order its Event.GetRevision reads them.
_REVISION_KEYS = ("commit", "originRevision", "revision")
# `main@sha1:<sha>` (Flux 2.1+), `main/<sha>` (older), or the bare SHA.
_SHA = re.compile(r"(?:^|@sha1:|/)([0-9a-f]{40})$")


@dataclass(frozen=True)
class FluxObject:
    """A `flux.objects` rule: objects whose `<namespace>/<name>` matches the glob `match`
    (and whose kind is `kind`, when set) deploy `repo`, to `environment` when set."""

    match: str
    repo: str | None = None
    environment: str | None = None
    kind: str | None = None

    def matches(self, kind: str, namespace: str, name: str) -> bool:
        if self.kind is not None and self.kind.casefold() != kind.casefold():
            return False
        return fnmatchcase(f"{namespace}/{name}", self.match)


@dataclass(frozen=True)
class FluxNotification:
    events: list[Event]
    delivery_id: str
    reason: str
    unattached: str | None = None


@dataclass(frozen=True)
class FluxMapping:
    objects: tuple[FluxObject, ...] = field(default_factory=tuple)

    def rule_for(self, kind: str, namespace: str, name: str) -> FluxObject | None:
        return next((r for r in self.objects if r.matches(kind, namespace, name)), None)


def flux_state(reason: str, severity: str) -> str | None:
    """The deploy state of a Flux event's reason: None when it is no deploy state."""
    if reason == "Progressing" or reason.startswith("Progressing"):
        return "in_progress"
    if reason.endswith("Succeeded"):
        return "success"
    if reason.endswith("Failed") or severity == "error":
        return "failure"
    return None


def flux_sha(revision: str) -> str | None:
    """The commit SHA of a Flux revision (`main@sha1:<sha>`), None for a chart version."""
    match = _SHA.search(revision.strip().lower())
    return match.group(1) if match else None


def parse_flux(payload: object, *, received_at: datetime, mapping: FluxMapping | None = None,
               scm_repos: ScmRepos | None = None) -> FluxNotification:
    """The deploy Event of one Flux event; ParseError (one line, for a 400) if it is not one."""
    p = Fields(payload)
    kind = _text(p, "involvedObject.kind")
    namespace = _text(p, "involvedObject.namespace")
    name = _text(p, "involvedObject.name")
    reason = _text(p, "reason")
    severity = p.opt("severity") if isinstance(p.opt("severity"), str) else ""
    metadata = p.opt("metadata") or {}
    if not isinstance(metadata, dict):
        raise ParseError("field metadata must be an object")
    at = received_at
    if p.opt("timestamp") not in (None, ""):
        try:
            at = parse_time(p.opt("timestamp"))
        except ParseError:
            raise ParseError(f"field timestamp is not a time: {p.opt('timestamp')!r:.60}") from None
    delivery_id = deploy_delivery_id(payload)
    state = flux_state(reason, str(severity))
    if state is None:
        return FluxNotification([], delivery_id, reason)
    this = f"{kind} {namespace}/{name}"
    revision = next((str(metadata[k]) for k in _REVISION_KEYS if metadata.get(k)), "")
    sha = flux_sha(revision)
    if sha is None:
        return FluxNotification([], delivery_id, reason, unattached=(
            f"{this}: revision {revision!r:.60} names no Git commit" if revision
            else f"{this}: the event has no revision"))
    rule = (mapping or FluxMapping()).rule_for(kind, namespace, name)
    repository = _meta(metadata, "repository") or (rule.repo if rule else None)
    if repository is None:
        return FluxNotification([], delivery_id, reason, unattached=(
            f"{this} is mapped to no repository: add it to flux.objects in the config, or "
            "set repository in the Alert's eventMetadata"))
    repo = _repo(repository, scm_repos or ScmRepos())
    environment = (_meta(metadata, "environment") or (rule.environment if rule else None)
                   or name).strip()[:MAX_ENVIRONMENT]
    message = p.opt("message")
    data = {"status": state, "reason": reason, "flux_object": this}
    if isinstance(message, str) and message.strip():
        data["description"] = message.strip()[:MAX_DESCRIPTION]
    event = Event(repo=repo, sha=sha, source=SOURCE, kind="deployment", name=environment,
                  at=at, status=DEPLOY_WEBHOOK_STATES[state], data=data)
    return FluxNotification([event], delivery_id, reason)


def _repo(repository: str, scm_repos: ScmRepos) -> str:
    if "://" in repository or "@" in repository:
        repo = scm_repos.repo_of(repository)
        if repo is None:
            raise ParseError(f"metadata repository {repository!r:.60} is a URL that is not on "
                             "GitHub and not mapped in scm_repos")
        return repo
    try:
        return normalise_repo(repository)
    except ParseError:
        raise ParseError(f"metadata repository must be owner/repo or a Git URL, not "
                         f"{repository!r:.60}") from None


def _meta(metadata: dict[str, object], key: str) -> str | None:
    value = metadata.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _text(p: Fields, name: str) -> str:
    value = p.opt(name)
    if not isinstance(value, str) or not value.strip():
        raise ParseError(f"missing field {name}" if value in (None, "")
                         else f"field {name} must be a string")
    return value.strip()
