"""Jenkins Notification plugin payloads to Events.

The plugin (plugins.jenkins.io/notification) posts the job's state as JSON at each phase of
a build: QUEUED, STARTED, COMPLETED, FINALIZED, and NONE from the `notifyEndpoints`
pipeline step. `build.timestamp` is in epoch milliseconds and is the moment of the phase
(queued, started, started + duration, finalized); older plugin versions sent the start as
an ISO string for every phase, and a finished build still wins then, on status rank.

Each job is one check on its commit's card. The build number is the event's generation,
so a newer build of a job replaces an older one on the card whatever order they arrive in.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from correlation import status as st
from correlation.events import Event, ParseError, normalise_sha, parse_time
from correlation.payload import Fields
from correlation.scm import ScmRepos, remote_location

SOURCE = "jenkins"
MAX_FAILED_TEST_NAMES = 20
MAX_JOB_NAME = 255  # an event's name, in the database
_MAX_DELIVERY_ID = 200  # the deliveries table's column
_JOB_SEGMENT = re.compile(r"(?:^|/)job/([^/]+)")


@dataclass(frozen=True)
class JenkinsNotification:
    """One notification: its dedupe key, and its events or why it attaches to no card."""

    delivery_id: str
    phase: str
    job: str
    number: int
    events: list[Event] = field(default_factory=list)
    unattached: str | None = None


def parse_jenkins(
    payload: object, *, received_at: datetime, scm_repos: ScmRepos | None = None
) -> JenkinsNotification:
    """Read a notification; ParseError if it lacks what identifies the build."""
    try:
        return _parse(Fields(payload), received_at, scm_repos or ScmRepos())
    except ParseError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise ParseError(f"malformed Jenkins notification: {exc}") from exc


def _parse(p: Fields, received_at: datetime, scm_repos: ScmRepos) -> JenkinsNotification:
    build = p.obj("build")
    job = _job_name(p)
    if len(job) > MAX_JOB_NAME:
        raise ParseError(f"the job's full name is longer than {MAX_JOB_NAME} characters")
    number = _int(build, "number")
    phase = build.str("phase").upper()
    if phase not in st.JENKINS_PHASES:
        raise ParseError(f"build.phase must be one of {', '.join(st.JENKINS_PHASES)}, "
                         f"not {build.opt('phase')!r}")
    at = _time(build.opt("timestamp"), fallback=received_at)
    scm = build.obj("scm") if build.opt("scm") is not None else Fields({}, "build.scm")
    commit = scm.opt("commit")
    sha = normalise_sha(commit) if commit else None
    notification = JenkinsNotification(_delivery_id(build, job, number, phase, sha, at), phase,
                                       job, number)
    if sha is None:
        return replace(notification, unattached="the build names no commit "
                                                 "(no build.scm.commit), so it shows on no card")
    remote = scm.opt("url")
    if not isinstance(remote, str) or not remote:
        return replace(notification, unattached="the build names no repository (no build.scm.url)")
    repo = scm_repos.repo_of(remote)
    if repo is None:
        where = remote_location(remote) or "an unreadable URL"
        return replace(notification, unattached=f"build.scm.url ({where}) is not on GitHub and "
                                                  "not mapped in scm_repos")

    result = build.opt("status")
    result = str(result).upper() if result else None
    status = st.from_jenkins(phase, result)
    duration_ms = _duration_ms(build) if status.finished else None
    tests = _tests(build)
    events = [
        Event(
            repo=repo, sha=sha, source=SOURCE, kind="build", name=job, at=at, status=status,
            generation=(number,),
            data=_without_none(
                display_name=_display_name(job),
                url=build.opt("full_url"),
                job=job,
                job_url=_job_url(p, build),
                build_number=number,
                result=result,
                duration_ms=duration_ms,
                parameters=_parameters(build),
                tests=tests,
                failed_tests=(tests or {}).get("failed_tests") or None,
                log_url=_console_url(build.opt("full_url")),
                branch=scm.opt("branch"),
                summary=_summary(number, result, tests, duration_ms),
            ),
        )
    ]
    branch = _branch(scm.opt("branch"))
    if branch:
        events.append(Event(repo=repo, sha=sha, source=SOURCE, kind="commit",
                            name="branch:jenkins", at=at, data={"value": branch}))
    return replace(notification, events=events)


def _job_name(p: Fields) -> str:
    """The job's full name (`folder/job`, as Jenkins' API wants it), from its URL."""
    url = p.opt("url")
    if isinstance(url, str):
        segments = _JOB_SEGMENT.findall(urlsplit(url).path if "://" in url else url)
        if segments:
            return "/".join(unquote(s) for s in segments)
    return p.str("name")


def _display_name(job: str) -> str:
    # A multibranch job's branch is named `feature%2Flogin`; people read `feature/login`.
    return "/".join(unquote(segment) for segment in job.split("/"))


def _job_url(p: Fields, build: Fields) -> str | None:
    """The job's page: the build's full URL less the build's own relative URL, plus the job's."""
    full_url, build_url, job_url = build.opt("full_url"), build.opt("url"), p.opt("url")
    if not (isinstance(full_url, str) and isinstance(build_url, str) and build_url
            and isinstance(job_url, str) and full_url.endswith(build_url)):
        return None
    return full_url[: len(full_url) - len(build_url)] + job_url


def _delivery_id(build: Fields, job: str, number: int, phase: str, sha: str | None,
                 at: datetime) -> str:
    """(Jenkins host, job, build number, phase): what makes a resent notification a duplicate.

    The commit is part of it too: a pipeline's own STARTED notification comes before its
    checkout and names no commit, and `notifyEndpoints` after `checkout scm` sends STARTED
    again, with the commit. NONE may be sent several times in one build, so its moment is
    part of its identity.
    """
    full_url = build.opt("full_url")
    host = urlsplit(full_url).netloc.lower() if isinstance(full_url, str) else ""
    key = f"{host}/{job}#{number}/{phase}"
    if sha is not None:
        key += f"/{sha[:12]}"
    if phase == "NONE":
        key += f"@{at.isoformat()}"
    if len(key) > _MAX_DELIVERY_ID:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def _int(payload: Fields, dotted: str) -> int:
    value = payload.req(dotted)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ParseError(f"field build.{dotted} is not a number")
    try:
        return int(value)
    except ValueError:
        raise ParseError(f"field build.{dotted} is not a number") from None


def _time(value: object, *, fallback: datetime) -> datetime:
    if value is None:
        return fallback
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return parse_time(value / 1000)  # Java epoch milliseconds
        return parse_time(value)
    except ParseError:
        raise ParseError(f"field build.timestamp is not a timestamp: {value!r}") from None


def _console_url(full_url: object) -> str | None:
    if not isinstance(full_url, str) or not full_url.startswith(("http://", "https://")):
        return None
    return full_url.rstrip("/") + "/console"


def _duration_ms(build: Fields) -> int | None:
    value = build.opt("duration")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return int(value)
    return None


def _parameters(build: Fields) -> dict[str, str] | None:
    raw = build.opt("parameters")
    if not isinstance(raw, dict) or not raw:
        return None
    return {str(k): "" if v is None else str(v) for k, v in raw.items()}


def _tests(build: Fields) -> dict[str, Any] | None:
    if build.opt("test_summary") is None:
        return None
    summary = build.obj("test_summary")
    counts = {}
    for name in ("total", "failed", "passed", "skipped"):
        value = summary.opt(name, 0)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParseError(f"field build.test_summary.{name} is not a number")
        counts[name] = value
    names = summary.opt("failed_tests") or []
    if not isinstance(names, list):
        raise ParseError("field build.test_summary.failed_tests is not a list")
    return {**counts, "failed_tests": [str(n) for n in names[:MAX_FAILED_TEST_NAMES]]}


def _branch(raw: object) -> str | None:
    """The branch a build checked out, as GitHub names it; None if it is not a branch."""
    if not isinstance(raw, str):
        return None
    branch = raw.removeprefix("refs/remotes/").removeprefix("refs/heads/")
    branch = branch.removeprefix("origin/")
    # Multibranch pull request jobs check out PR-12, which is no branch of the repository.
    if not branch or re.fullmatch(r"PR-\d+|detached|HEAD", branch):
        return None
    return branch


def _summary(number: int, result: str | None, tests: dict[str, Any] | None,
             duration_ms: int | None) -> str:
    parts = [f"#{number}"]
    if result in ("UNSTABLE", "ABORTED", "NOT_BUILT"):
        parts.append(result.lower().replace("_", " "))
    if tests and tests["failed"]:
        parts.append(f"{tests['failed']} of {tests['total']} tests failed")
    elif tests and tests["total"]:
        parts.append(f"{tests['passed']} tests passed")
    if duration_ms:
        parts.append(human_duration(duration_ms / 1000))
    return " · ".join(parts)


def human_duration(seconds: float) -> str:
    """`45s`, `2m 30s`, `1h 05m`."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _without_none(**data: Any) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}
