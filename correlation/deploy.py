"""The generic deploy webhook's event (DESIGN.md) to an Event.

```json
{"repository": "owner/repo", "sha": "<40 hex>", "environment": "staging",
 "status": "pending|in_progress|success|failure|error|waiting",
 "url": "https://...", "deployment_id": "...", "description": "...",
 "timestamp": "2026-01-01T12:00:00Z"}
```

Any deploy tool can send it (Argo CD notifications, a shell script, a CI step). Every
mistake is a ParseError whose one-line message names the field, for a 400.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from correlation.events import Event, ParseError, normalise_repo, normalise_sha, parse_time
from correlation.payload import Fields
from correlation.scm import ScmRepos
from correlation.status import DEPLOY_WEBHOOK_STATES

SOURCE = "deploy"
MAX_ENVIRONMENT = 100
_NO_VALUE = "<no value>"  # what a Go template (Argo CD, Helm) prints for a missing field


def parse_deploy(
    payload: object, *, received_at: datetime, scm_repos: ScmRepos | None = None
) -> Event:
    """The deployment event; `timestamp` is optional and defaults to `received_at`."""
    p = Fields(payload)
    repo = _repo(_text(p, "repository"), scm_repos or ScmRepos())
    sha = _text(p, "sha")
    try:
        sha = normalise_sha(sha)
    except ParseError:
        raise ParseError(f"field sha must be a full 40-hex commit SHA, not {_show(sha)}") from None
    environment = _text(p, "environment").strip()
    if not environment:
        raise ParseError("field environment is blank")
    if len(environment) > MAX_ENVIRONMENT:
        raise ParseError(f"field environment is longer than {MAX_ENVIRONMENT} characters")
    raw_status = _text(p, "status")
    status = DEPLOY_WEBHOOK_STATES.get(raw_status.strip().lower())
    if status is None:
        raise ParseError(f"field status must be one of {', '.join(DEPLOY_WEBHOOK_STATES)}, "
                         f"not {_show(raw_status)}")
    at = received_at
    if p.opt("timestamp") not in (None, ""):
        try:
            at = parse_time(p.opt("timestamp"))
        except ParseError:
            raise ParseError("field timestamp must be ISO 8601 (2026-01-01T12:00:00Z) or "
                             f"epoch seconds, not {_show(p.opt('timestamp'))}") from None
    data = {
        "url": _optional(p, "url"),
        "deployment_id": _optional(p, "deployment_id"),
        "description": _optional(p, "description"),
        "status": raw_status.strip().lower(),
    }
    return Event(repo=repo, sha=sha, source=SOURCE, kind="deployment", name=environment,
                 at=at, status=status, data={k: v for k, v in data.items() if v is not None})


def deploy_delivery_id(payload: Any) -> str:
    """A deploy event's dedupe key: the SHA-256 of its JSON with sorted keys.

    Deploy tools send no delivery id, so an identical event (a retry, a resend) is a
    duplicate, whatever its whitespace or key order. Two deploys of the same commit to the
    same environment are told apart by their `timestamp` or `deployment_id`; a sender that
    sends neither has its repeats of the same status counted once.
    """
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _repo(repository: str, scm_repos: ScmRepos) -> str:
    """`owner/repo`, or a Git remote URL (Argo CD knows its apps' `repoURL`)."""
    if "://" in repository or "@" in repository:
        repo = scm_repos.repo_of(repository)
        if repo is None:
            raise ParseError(f"field repository {_show(repository)} is a URL that is not on "
                             "GitHub and not mapped in scm_repos")
        return repo
    try:
        return normalise_repo(repository)
    except ParseError:
        raise ParseError(f"field repository must be owner/repo or a Git URL, not "
                         f"{_show(repository)}") from None


def _text(p: Fields, name: str) -> str:
    value = p.opt(name)
    if value is None or value == "":
        raise ParseError(f"missing field {name}")
    if not isinstance(value, str):
        raise ParseError(f"field {name} must be a string, not {_show(value)}")
    if _NO_VALUE in value:
        raise ParseError(f"field {name} is {_show(value)}: the sender's template names a field "
                         "its data does not have")
    return value


def _optional(p: Fields, name: str) -> str | None:
    value = p.opt(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ParseError(f"field {name} must be a string, not {_show(value)}")
    return str(value)


def _show(value: object, limit: int = 60) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
