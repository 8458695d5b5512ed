"""Jenkins remote API JSON shapes (`.../api/json`), rendered with URLs that point at the fake."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.fakes.jenkins_models import (
    PARAMETER_CLASSES,
    Build,
    Checkout,
    Job,
    Json,
    Param,
    QueueItem,
)
from tests.fakes.jenkins_state import JenkinsError

if TYPE_CHECKING:
    from tests.fakes.jenkins_state import JenkinsState

JOB_CLASSES = {
    "freestyle": ("hudson.model.FreeStyleProject", "hudson.model.FreeStyleBuild"),
    "pipeline": (
        "org.jenkinsci.plugins.workflow.job.WorkflowJob",
        "org.jenkinsci.plugins.workflow.job.WorkflowRun",
    ),
    "folder": ("com.cloudbees.hudson.plugins.folder.Folder", ""),
}
COLORS = {
    "SUCCESS": "blue",
    "UNSTABLE": "yellow",
    "FAILURE": "red",
    "ABORTED": "aborted",
    "NOT_BUILT": "notbuilt",
}


def build_url(js: JenkinsState, build: Build) -> str:
    return f"{js.job_url(build.job)}{build.number}/"


def build_ref(js: JenkinsState, build: Build | None) -> Json | None:
    if build is None:
        return None
    kind = js.job(build.job).kind
    return {"_class": JOB_CLASSES[kind][1], "number": build.number, "url": build_url(js, build)}


def color(job: Job) -> str:
    if job.kind == "folder":
        return ""
    builds = sorted(job.builds.values(), key=lambda b: b.number)
    done = [b for b in builds if not b.building]
    shade = COLORS.get(done[-1].result or "", "notbuilt") if done else "notbuilt"
    return f"{shade}_anime" if builds and builds[-1].building else shade


def job_ref(js: JenkinsState, job: Job, depth: int | None = None) -> Json:
    """A job in a `jobs` list; `depth` nested `jobs[...]` levels for folders (`tree=`)."""
    found: Json = {
        "_class": JOB_CLASSES[job.kind][0],
        "name": job.name,
        "url": js.job_url(job.full_name),
    }
    if job.kind != "folder":
        found["color"] = color(job)
    elif depth is not None:
        children = js.children(job.full_name)
        found["jobs"] = (
            [job_ref(js, child, depth - 1) for child in children]
            if depth > 0  # past the levels asked for, Jenkins gives objects with no fields
            else [{"_class": JOB_CLASSES[child.kind][0]} for child in children]
        )
    return found


def parameter_definition_json(param: Param) -> Json:
    cls = PARAMETER_CLASSES[param.type]
    default = {"_class": f"{cls}Value", "name": param.name, "value": param.default_value}
    if param.type == "password":
        default.pop("value")
    found = {
        "_class": f"{cls}Definition",
        "defaultParameterValue": default,
        "description": param.description,
        "name": param.name,
        "type": f"{cls.rsplit('.', 1)[-1]}Definition",
    }
    if param.type == "choice":
        found["choices"] = list(param.choices)
    return found


def queue_ref(js: JenkinsState, item: QueueItem | None) -> Json | None:
    if item is None:
        return None
    return {
        "_class": "hudson.model.Queue$WaitingItem",
        "id": item.id,
        "url": f"queue/item/{item.id}/",
        "why": "In the quiet period.",
    }


def job_json(js: JenkinsState, job: Job, tree: str | None = None) -> Json:
    if job.kind == "folder":
        return folder_json(js, job, tree)
    builds = sorted(job.builds.values(), key=lambda b: b.number, reverse=True)

    def last(match: str) -> Json | None:
        try:
            return build_ref(js, js.build(job.full_name, match))
        except JenkinsError:  # no such build is null, as in Jenkins
            return None

    waiting = [i for i in js.queue.values() if i.job == job.full_name and i.build_number is None]
    properties: list[Json] = []
    if job.parameters:
        properties.append(
            {
                "_class": "hudson.model.ParametersDefinitionProperty",
                "parameterDefinitions": [parameter_definition_json(p) for p in job.parameters],
            }
        )
    return {
        "_class": JOB_CLASSES[job.kind][0],
        "actions": [
            *properties,
            {},
            {"_class": "com.cloudbees.plugins.credentials.ViewCredentialsAction"},
        ],
        "description": job.description,
        "displayName": job.name,
        "displayNameOrNull": None,
        "fullDisplayName": job.full_name.replace("/", " » "),
        "fullName": job.full_name,
        "name": job.name,
        "url": js.job_url(job.full_name),
        "buildable": True,
        "builds": [build_ref(js, b) for b in builds[:100]],
        "color": color(job),
        "firstBuild": build_ref(js, builds[-1]) if builds else None,
        "healthReport": [],
        "inQueue": bool(waiting),
        "keepDependencies": False,
        "lastBuild": last("lastBuild"),
        "lastCompletedBuild": last("lastCompletedBuild"),
        "lastFailedBuild": last("lastFailedBuild"),
        "lastStableBuild": last("lastStableBuild"),
        "lastSuccessfulBuild": last("lastSuccessfulBuild"),
        "lastUnstableBuild": last("lastUnstableBuild"),
        "lastUnsuccessfulBuild": last("lastUnsuccessfulBuild"),
        "nextBuildNumber": job.next_build_number,
        "property": properties,
        "queueItem": queue_ref(js, waiting[0]) if waiting else None,
        "concurrentBuild": False,
        "resumeBlocked": False,
    }


def folder_json(js: JenkinsState, job: Job | None, tree: str | None = None) -> Json:
    """A folder, or the root (`job=None`); `tree=jobs[...,jobs[...]]` nests sub-folders."""
    children = js.children(job.full_name if job else None)
    depth = tree.count("jobs[") - 1 if tree and "jobs[" in tree else None
    found: Json = {
        "_class": JOB_CLASSES["folder"][0] if job else "hudson.model.Hudson",
        "jobs": [job_ref(js, child, depth) for child in children],
    }
    if job is None:
        return {
            **found,
            "mode": "NORMAL",
            "nodeDescription": "the Jenkins controller's built-in node",
            "nodeName": "",
            "numExecutors": 2,
            "quietingDown": False,
            "useCrumbs": True,
            "useSecurity": True,
            "url": js.url,
            "views": [{"_class": "hudson.model.AllView", "name": "all", "url": js.url}],
        }
    return {
        **found,
        "actions": [{}],
        "description": job.description,
        "displayName": job.name,
        "fullDisplayName": job.full_name.replace("/", " » "),
        "fullName": job.full_name,
        "name": job.name,
        "url": js.job_url(job.full_name),
        "healthReport": [],
        "primaryView": {
            "_class": "hudson.model.AllView",
            "name": "All",
            "url": js.job_url(job.full_name),
        },
        "views": [
            {"_class": "hudson.model.AllView", "name": "All", "url": js.job_url(job.full_name)}
        ],
    }


def parameter_value_json(param: Param | None, name: str, value: object) -> Json:
    kind = param.type if param else "string"
    found = {"_class": f"{PARAMETER_CLASSES[kind]}Value", "name": name, "value": value}
    if kind == "password":
        found.pop("value")
    return found


def change_set_json(js: JenkinsState, build: Build) -> Json:
    if not build.changes:
        return {"_class": "hudson.scm.EmptyChangeLogSet", "items": [], "kind": None}
    items = []
    for change in build.changes:
        author = change.get("author", "ana")
        items.append(
            {
                "_class": "hudson.plugins.git.GitChangeSet",
                "affectedPaths": list(change.get("paths", [])),
                "commitId": change["commitId"],
                "timestamp": build.timestamp_ms,
                "author": {"absoluteUrl": f"{js.url}user/{author}", "fullName": author},
                "authorEmail": f"{author}@example.com",
                "comment": f"{change.get('msg', '')}\n",
                "date": "2026-01-01 12:00:00 +0000",
                "id": change["commitId"],
                "msg": change.get("msg", ""),
                "paths": [],
            }
        )
    return {"_class": "hudson.plugins.git.GitChangeSetList", "items": items, "kind": "git"}


def revision_json(checkout: Checkout) -> Json:
    return {"SHA1": checkout.sha, "branch": [{"SHA1": checkout.sha, "name": checkout.branch}]}


def build_data_json(job: Job, build: Build, checkout: Checkout) -> Json:
    """The git plugin's `BuildData` of one checkout. `lastBuiltRevision` is this build's;
    `buildsByBranchName` is the job's history on that remote, this build included."""
    history: dict[str, Json] = {}
    for earlier in sorted(job.builds.values(), key=lambda b: b.number):
        if earlier.number > build.number:
            break
        for seen in earlier.checkouts:
            if seen.remote == checkout.remote:
                history[seen.branch] = {
                    "_class": "hudson.plugins.git.util.Build",
                    "buildNumber": earlier.number,
                    "buildResult": None,
                    "marked": revision_json(seen),
                    "revision": revision_json(seen),
                }
    return {
        "_class": "hudson.plugins.git.util.BuildData",
        "buildsByBranchName": history,
        "lastBuiltRevision": revision_json(checkout),
        "remoteUrls": [checkout.remote],
        "scmName": "",
    }


def build_json(js: JenkinsState, build: Build) -> Json:
    job = js.job(build.job)
    definitions = {p.name: p for p in job.parameters}
    actions: list[Json] = []
    if build.parameters:
        actions.append(
            {
                "_class": "hudson.model.ParametersAction",
                "parameters": [
                    parameter_value_json(definitions.get(n), n, v)
                    for n, v in build.parameters.items()
                ],
            }
        )
    actions.append(
        {
            "_class": "hudson.model.CauseAction",
            "causes": [
                {
                    "_class": "hudson.model.Cause$UserIdCause",
                    "shortDescription": f"Started by user {build.user}",
                    "userId": build.user,
                    "userName": build.user,
                }
            ],
        }
    )
    for checkout in build.checkouts:
        actions.append(build_data_json(job, build, checkout))
    if build.checkouts:
        actions.append({"_class": "hudson.plugins.git.GitTagAction"})
    found = {
        "_class": JOB_CLASSES[job.kind][1],
        "actions": [*actions, {}],
        "artifacts": [],
        "building": build.building,
        "description": None,
        "displayName": f"#{build.number}",
        "duration": 0 if build.building else build.duration_ms,
        "estimatedDuration": max(build.duration_ms, 1000),
        "executor": {"_class": "hudson.model.OneOffExecutor"} if build.building else None,
        "fullDisplayName": f"{job.full_name.replace('/', ' » ')} #{build.number}",
        "id": str(build.number),
        "keepLog": False,
        "number": build.number,
        "queueId": build.queue_id,
        "result": build.result,
        "timestamp": build.timestamp_ms,
        "url": build_url(js, build),
        "builtOn": "",
        "inProgress": build.building,
        "culprits": [],
        "previousBuild": None,
        "nextBuild": None,
    }
    if job.kind == "pipeline":
        found["changeSets"] = [change_set_json(js, build)] if build.changes else []
    else:
        found["changeSet"] = change_set_json(js, build)
    return found


def queue_item_json(js: JenkinsState, item: QueueItem) -> Json:
    job = js.job(item.job)
    params = "".join(f"\n{name}={value}" for name, value in item.parameters.items())
    found: Json = {
        "actions": [
            {
                "_class": "hudson.model.CauseAction",
                "causes": [
                    {
                        "_class": "hudson.model.Cause$UserIdCause",
                        "shortDescription": f"Started by user {item.user}",
                        "userId": item.user,
                        "userName": item.user,
                    }
                ],
            }
        ],
        "blocked": False,
        "buildable": False,
        "id": item.id,
        "inQueueSince": int(item.queued_at * 1000),
        "params": params,
        "stuck": False,
        "task": job_ref(js, job),
        "url": f"queue/item/{item.id}/",
        "why": None,
        "timestamp": int(item.queued_at * 1000),
    }
    if item.parameters:
        found["actions"].insert(
            0,
            {
                "_class": "hudson.model.ParametersAction",
                "parameters": [
                    parameter_value_json(None, n, v) for n, v in item.parameters.items()
                ],
            },
        )
    if item.cancelled:
        return {
            **found,
            "_class": "hudson.model.Queue$LeftItem",
            "cancelled": True,
            "executable": None,
        }
    if item.build_number is None:
        return {**found, "_class": "hudson.model.Queue$WaitingItem", "why": "In the quiet period."}
    build = js.build(item.job, item.build_number)
    return {
        **found,
        "_class": "hudson.model.Queue$LeftItem",
        "cancelled": False,
        "executable": build_ref(js, build),
    }
