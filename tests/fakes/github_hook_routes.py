"""The fake GitHub's webhook delivery endpoints (docs.github.com/en/rest/webhooks and
/rest/apps/webhooks): list a hook's deliveries, newest first, paged by a `cursor` the
`Link` header gives; ask for a redelivery (202). The App's hook answers only the App's JWT.
Imported by `github_api` so that the routes are registered."""

from __future__ import annotations

from tests.fakes.github_auth import Identity
from tests.fakes.github_hooks import Hook, LoggedAttempt
from tests.fakes.github_http import Reply, Request
from tests.fakes.github_routes import REPO, ok, route
from tests.fakes.github_state import GitHubError, GitHubState, not_found

ORG = r"/orgs/(?P<org>[^/]+)"
HOOK = r"/hooks/(?P<hook_id>\d+)"
ATTEMPTS = r"/deliveries/(?P<delivery_id>\d+)/attempts"
CURSOR_PREFIX = "v1_"


def _hook(gh: GitHubState, kind: str, owner: str, ident: int) -> Hook:
    found = gh.hooks.hook(kind, owner, ident)
    if found is None:
        raise not_found()
    return found


def _listed(gh: GitHubState, request: Request, hook: Hook) -> Reply:
    try:
        per_page = min(max(int(request.arg("per_page") or 30), 1), 100)
    except ValueError as exc:
        raise GitHubError(422, "Invalid per_page") from exc
    entries: list[LoggedAttempt] = gh.hooks.entries(hook)
    cursor = request.arg("cursor")
    if cursor:
        if not cursor.startswith(CURSOR_PREFIX) or not cursor[len(CURSOR_PREFIX):].isdigit():
            raise GitHubError(400, "Invalid cursor")
        after = int(cursor[len(CURSOR_PREFIX):])
        entries = [e for e in entries if e.id < after]
    redelivery = request.arg("redelivery")
    if redelivery in ("true", "false"):
        entries = [e for e in entries if e.redelivery is (redelivery == "true")]
    page = entries[:per_page]
    headers = {}
    if len(entries) > per_page:
        path = request.raw_path.split("?", 1)[0]
        headers["Link"] = (f'<{gh.web}{path}?per_page={per_page}&cursor={CURSOR_PREFIX}'
                           f'{page[-1].id}>; rel="next"')
    return ok([e.json() for e in page], headers=headers)


def _redeliver(gh: GitHubState, hook: Hook, delivery_id: str) -> Reply:
    if not gh.hooks.redeliver(hook, int(delivery_id)):
        raise not_found()
    return ok({}, 202)


@route("GET", REPO + HOOK + r"/deliveries")
def list_repo_hook_deliveries(gh: GitHubState, request: Request, caller: Identity, owner: str,
                              repo: str, hook_id: str) -> Reply:
    return _listed(gh, request, _hook(gh, "repo", f"{owner}/{repo}", int(hook_id)))


@route("POST", REPO + HOOK + ATTEMPTS)
def redeliver_repo_hook_delivery(gh: GitHubState, request: Request, caller: Identity,
                                 owner: str, repo: str, hook_id: str, delivery_id: str
                                 ) -> Reply:
    return _redeliver(gh, _hook(gh, "repo", f"{owner}/{repo}", int(hook_id)), delivery_id)


@route("GET", ORG + HOOK + r"/deliveries")
def list_org_hook_deliveries(gh: GitHubState, request: Request, caller: Identity, org: str,
                             hook_id: str) -> Reply:
    return _listed(gh, request, _hook(gh, "org", org, int(hook_id)))


@route("POST", ORG + HOOK + ATTEMPTS)
def redeliver_org_hook_delivery(gh: GitHubState, request: Request, caller: Identity, org: str,
                                hook_id: str, delivery_id: str) -> Reply:
    return _redeliver(gh, _hook(gh, "org", org, int(hook_id)), delivery_id)


@route("GET", r"/app/hook/deliveries", auth="app")
def list_app_hook_deliveries(gh: GitHubState, request: Request, caller: Identity) -> Reply:
    return _listed(gh, request, _hook(gh, "app", str(caller.app_id), 0))


@route("POST", r"/app/hook" + ATTEMPTS, auth="app")
def redeliver_app_hook_delivery(gh: GitHubState, request: Request, caller: Identity,
                                delivery_id: str) -> Reply:
    return _redeliver(gh, _hook(gh, "app", str(caller.app_id), 0), delivery_id)


@route("GET", REPO + r"/hooks")
def list_repo_hooks(gh: GitHubState, request: Request, caller: Identity, owner: str,
                    repo: str) -> Reply:
    found = gh.repo(f"{owner}/{repo}")
    hooks = sorted((h for h in gh.hooks.hooks.values()
                    if h.kind == "repo" and h.owner.lower() == found.full_name.lower()),
                   key=lambda h: h.id)
    base = f"{gh.api}/repos/{found.full_name}/hooks"
    return ok([{"type": "Repository", "id": h.id, "name": "web", "active": True,
                "events": ["push", "pull_request", "check_run"],
                "config": {"url": h.url, "content_type": "json", "insecure_ssl": "0"},
                "updated_at": "2026-11-20T10:00:00Z", "created_at": "2026-11-20T10:00:00Z",
                "url": f"{base}/{h.id}", "test_url": f"{base}/{h.id}/test",
                "ping_url": f"{base}/{h.id}/pings",
                "deliveries_url": f"{base}/{h.id}/deliveries",
                "last_response": {"code": None, "status": "unused", "message": None}}
               for h in hooks])
