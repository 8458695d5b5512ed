"""Whether Retry may start a failed Jenkins build again, decided from Jenkins' own record.

A card's Jenkins builds come from Notification plugin posts, and any pipeline can read the
shared token those posts carry: a post may name any job, any parameters, on any commit. So
Retry never re-runs what a post says. At the click the bot asks Jenkins for the build the
card names (job and number) and decides here, from Jenkins' answer:

- the job must be one Retry is allowed for on this repo: the configured `retry.jobs` globs;
  without them, a job Jenkins itself vouches for, i.e. this very build checked out a
  commit with the git plugin (`BuildData.lastBuiltRevision`) and that commit is the card's;
- the build must have failed, by Jenkins' own result;
- when Jenkins reports what the build checked out, one of its revisions must be the card's
  commit (a job in `retry.jobs` that checks out nothing is taken at the config's word);
- the re-run gets the parameters Jenkins says the build ran with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from correlation.events import ParseError, normalise_sha
from correlation.payload import Fields
from correlation.policies import RetryPolicy

__all__ = ["RETRYABLE_RESULTS", "JenkinsBuild", "built_elsewhere", "read_jenkins_build",
           "retry_refusal", "retry_shown"]

RETRYABLE_RESULTS = frozenset({"FAILURE", "UNSTABLE", "ABORTED"})
_ENDED = {"SUCCESS": "passed", "NOT_BUILT": "was not built"}


@dataclass(frozen=True)
class JenkinsBuild:
    """A build as Jenkins' API describes it (`/job/<name>/<number>/api/json`)."""

    job: str
    number: int
    building: bool
    result: str | None
    parameters: Mapping[str, str] = field(default_factory=dict)
    revisions: tuple[str, ...] = ()  # the commits it checked out, as the git plugin says


def read_jenkins_build(job: str, number: int, payload: object) -> JenkinsBuild:
    """Jenkins' answer for build `number` of `job`; ParseError if it is not a build."""
    build = Fields(payload, "the build")
    building = build.opt("building", False)
    result = build.opt("result")
    if not isinstance(building, bool) or not (result is None or isinstance(result, str)):
        raise ParseError("Jenkins' answer is not a build (no building/result)")
    actions = build.opt("actions", [])
    if not isinstance(actions, list):
        raise ParseError("the build's actions are not a list")
    parameters: dict[str, str] = {}
    revisions: list[str] = []
    for action in actions:
        if not isinstance(action, dict):
            continue  # Jenkins lists actions that export nothing as {}
        if isinstance(action.get("parameters"), list):  # hudson.model.ParametersAction
            parameters.update(_parameters(action["parameters"]))
        revision = _revision(action)
        if revision is not None and revision not in revisions:
            revisions.append(revision)
    return JenkinsBuild(job, number, building, result.upper() if result else None,
                        parameters, tuple(revisions))


def _parameters(values: Iterable[object]) -> dict[str, str]:
    """Name to value as `buildWithParameters` takes it. Values Jenkins does not show
    (passwords, files) are left out, so the re-run takes the job's default for them."""
    found: dict[str, str] = {}
    for value in values:
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            continue
        raw = value.get("value")
        if isinstance(raw, bool):
            found[value["name"]] = "true" if raw else "false"
        elif isinstance(raw, str | int | float):
            found[value["name"]] = str(raw)
    return found


def _revision(action: dict[str, object]) -> str | None:
    """The commit a git checkout built (`hudson.plugins.git.util.BuildData`).

    Only `lastBuiltRevision` is this build's: `buildsByBranchName` carries the job's
    history of other builds too.
    """
    last = action.get("lastBuiltRevision")
    if not isinstance(last, dict):
        return None
    try:
        return normalise_sha(last.get("SHA1"))
    except ParseError:
        return None


def _job_matches(job: str, globs: Iterable[str]) -> bool:
    return any(fnmatchcase(job.lower(), glob.lower()) for glob in globs)


def retry_shown(job: str, repo: str, policy: RetryPolicy) -> bool:
    """Whether a failed build of `job` on `repo` gets a Retry button: not when the config
    lists the jobs and this is not one (without a list, Jenkins decides at the click)."""
    globs = policy.jobs_for(repo)
    return globs is None or _job_matches(job, globs)


def _label(build: JenkinsBuild) -> str:
    return f"build #{build.number} of {build.job}"


def built_elsewhere(build: JenkinsBuild, sha: str) -> str | None:
    """Why `build` is not the card's at `sha`: Jenkins says it checked out other commits.
    None when one of them is `sha`, or when Jenkins does not say what it checked out.
    Retry and the team's buttons that re-use a build both go by it."""
    if not build.revisions or sha.lower() in build.revisions:
        return None
    built = " and ".join(revision[:7] for revision in build.revisions[:3])
    return f"Jenkins says {_label(build)} built {built}, not this commit"


def retry_refusal(build: JenkinsBuild, *, repo: str, sha: str,
                  policy: RetryPolicy) -> str | None:
    """Why Retry may not start `build` again from the card of `repo`@`sha`; None: it may."""
    label = _label(build)
    globs = policy.jobs_for(repo)
    if globs is not None and not _job_matches(build.job, globs):
        return f"Retry isn't allowed for {build.job} on {repo}: add it to retry.jobs"
    if build.building:
        return f"Jenkins says {label} is still running"
    if build.result not in RETRYABLE_RESULTS:
        ended = _ENDED.get(build.result or "", f"ended {build.result or 'without a result'}")
        return f"Jenkins says {label} {ended}; there is nothing to retry"
    elsewhere = built_elsewhere(build, sha)
    if elsewhere is not None:
        return elsewhere
    if not build.revisions and globs is None:
        return (f"Retry isn't allowed for {build.job} on {repo}: Jenkins does not say which "
                f"commit {label} built; add the job to retry.jobs")
    return None
