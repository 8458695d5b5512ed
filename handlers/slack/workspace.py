"""Only the bot's own Slack workspace is listened to: a Bolt middleware, so that requests
over HTTP and over Socket Mode alike are checked before any listener runs.

The workspace and Grid organisation a request names are Bolt's reading of its payload
(`context.team_id`, `context.enterprise_id`: a command's `team_id`, an interaction's
`team.id`, an event's `authorizations`); whether they are the bot's is
`correlation.slack_requests.workspace_refusal`'s to decide."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.request.payload_utils import is_slash_command
from slack_bolt.response import BoltResponse

from correlation.slack_requests import SlackOrigin, workspace_refusal

log = logging.getLogger(__name__)

ELSEWHERE = "This bot belongs to another Slack workspace: nothing was done."
_NO_WORKSPACE_NAMED = ("url_verification",)  # Slack checking the URL, before any install


class OwnWorkspace(Middleware):
    """Refuses a request from another workspace than `own_team()` (SLACK_TEAM_ID, or the
    bot token's `auth.test`), unless it comes from one of the `enterprises` (Grid
    organisations the bot is configured to serve)."""

    def __init__(self, own_team: Callable[[], str | None], *,
                 enterprises: Collection[str] = ()) -> None:
        self._own_team, self._enterprises = own_team, frozenset(enterprises)

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse | None:
        if req.body.get("type") in _NO_WORKSPACE_NAMED:
            return next()
        origin = SlackOrigin(req.context.team_id, req.context.enterprise_id)
        refusal = workspace_refusal(origin, own_team=self._own_team(),
                                    enterprises=self._enterprises)
        if refusal is None:
            return next()
        log.warning("Slack request refused: %s (user %s, %s)", refusal, req.context.user_id,
                    "command " + str(req.body.get("command")) if is_slash_command(req.body)
                    else str(req.body.get("type")))
        if is_slash_command(req.body):
            # Slack shows a slash command's answer to whoever typed it; anything but a 200
            # would show as "failed", saying nothing of why.
            return BoltResponse(status=200, body={"response_type": "ephemeral",
                                                  "text": ELSEWHERE})
        return BoltResponse(status=403, body={"error": refusal})
