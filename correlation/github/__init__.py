"""GitHub webhook payloads to Events.

One small parser per event type, registered on its module's router (after gidgethub's); the
routers are combined here, explicitly. A parser takes the decoded payload and the time the
delivery arrived (used only where a payload states no time of its own) and returns the
Events it carries.
"""

from correlation.github import checks, commits, deployments
from correlation.github.common import Parser, Router

router = Router(commits.router, checks.router, deployments.router)
parse_github = router.parse

__all__ = ["Parser", "Router", "parse_github", "router"]
