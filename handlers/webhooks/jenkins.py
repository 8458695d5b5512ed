"""POST /webhooks/jenkins: the Jenkins Notification plugin's JSON, with a shared token.

The plugin cannot sign its body, so the token comes in the query string (`?token=`, the
only place the plugin can put it) or in an `X-Devexbot-Token` header.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from correlation.events import ParseError
from correlation.jenkins import parse_jenkins
from correlation.status import JENKINS_PHASES
from devexbot.errors import RequestError
from devexbot.http.answers import webhook_answers
from devexbot.http.deps import ConfigDep, IngestDep, SettingsDep, TracerDep
from handlers.webhooks.metered import MeteredRoute
from handlers.webhooks.openapi import header, json_body, query, timestamp
from handlers.webhooks.verify import decode_json, read_body, require_secret, verify_token

router = APIRouter(route_class=MeteredRoute)

NOTIFICATION = {
    "type": "object",
    "required": ["name", "build"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "description": "the job's name"},
        "url": {"type": "string", "description": "the job's URL (`job/folder/job/name/`): "
                                                 "its full name is read from it"},
        "build": {
            "type": "object",
            "required": ["number", "phase"],
            "properties": {
                "number": {"type": "integer"},
                "phase": {"enum": list(JENKINS_PHASES)},
                "status": {"type": "string", "description": "SUCCESS, FAILURE, UNSTABLE, "
                                                            "ABORTED or NOT_BUILT"},
                "full_url": {"type": "string"},
                "url": {"type": "string"},
                "timestamp": timestamp(per_second=1000,
                                       description="epoch milliseconds, or ISO 8601"),
                "duration": {"type": "integer", "description": "milliseconds"},
                "scm": {"type": "object", "properties": {
                    "url": {"type": "string", "description": "the Git remote"},
                    "branch": {"type": "string"},
                    "commit": {"type": "string", "pattern": "^[0-9a-fA-F]{40}$"},
                }},
                "parameters": {"type": "object"},
            },
        },
    },
}
SENT = {
    "parameters": [query("token", "JENKINS_WEBHOOK_TOKEN (or send it as X-Devexbot-Token)"),
                   header("X-Devexbot-Token", "JENKINS_WEBHOOK_TOKEN (or send it as ?token=)")],
    "requestBody": json_body(NOTIFICATION, "the Notification plugin's JSON"),
}


@router.post("/jenkins", status_code=202, openapi_extra=SENT, response_model=None,
             responses=webhook_answers(
                 malformed="not a JSON object, or no build number, phase or job name",
                 unauthorized="missing token, or not JENKINS_WEBHOOK_TOKEN"))
async def jenkins_webhook(request: Request, settings: SettingsDep, ingest: IngestDep,
                          config: ConfigDep, tracer: TracerDep) -> JSONResponse:
    """A Jenkins Notification plugin post, with the shared token (the plugin cannot sign)."""
    with tracer.span("verify"):
        token = require_secret(settings.jenkins_webhook_token, "JENKINS_WEBHOOK_TOKEN")
        body = await read_body(request)
        presented = (request.headers.get("x-devexbot-token")
                     or request.query_params.get("token"))
        verify_token(secret=token, presented=presented,
                     name="token (?token= or X-Devexbot-Token)")
    with tracer.span("parse") as span:
        payload = decode_json(body, request.headers.get("content-type"))
        try:
            notification = parse_jenkins(payload, received_at=datetime.now(UTC),
                                         scm_repos=config.scm)
        except ParseError as exc:
            raise RequestError(400, str(exc)) from None
        span.set_attribute("devexbot.events", len(notification.events))

    result = await ingest.record_async(
        source="jenkins",
        delivery_id=notification.delivery_id,
        event_type=notification.phase,
        events=notification.events,
        payload=payload,
        unattached=notification.unattached,
    )
    answer: dict[str, object] = {"status": result.outcome, "delivery": notification.delivery_id}
    if result.outcome == "duplicate":
        return JSONResponse(answer, status_code=200)
    answer["events"] = len(notification.events)
    if notification.unattached:
        answer["detail"] = notification.unattached
    return JSONResponse(answer, status_code=202)
