"""POST /webhooks/deploy: the generic deploy event of DESIGN.md, from any deploy tool.

Senders sign the body like GitHub does (`X-Devexbot-Signature-256: sha256=<hex HMAC-SHA256
of the body>` keyed with DEPLOY_WEBHOOK_SECRET). Senders that cannot compute an HMAC (Argo
CD notifications only sends fixed headers) send the secret itself as `X-Devexbot-Token`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from correlation.deploy import MAX_ENVIRONMENT, deploy_delivery_id, parse_deploy
from correlation.events import REPO_NAME, ParseError
from correlation.status import DEPLOY_WEBHOOK_STATES
from devexbot.errors import RequestError
from devexbot.http.answers import webhook_answers
from devexbot.http.deps import ConfigDep, IngestDep, SettingsDep, TracerDep
from handlers.webhooks.metered import MeteredRoute
from handlers.webhooks.openapi import HMAC_SHA256, header, json_body, timestamp
from handlers.webhooks.verify import decode_json, signed_or_token_body

router = APIRouter(route_class=MeteredRoute)

SIGNATURE_HEADER = "X-Devexbot-Signature-256"
TOKEN_HEADER = "X-Devexbot-Token"  # noqa: S105 - a header name, not a secret

DEPLOY_EVENT = {
    "type": "object",
    "required": ["repository", "sha", "environment", "status"],
    "properties": {
        "repository": {"type": "string", "pattern": f"^{REPO_NAME.pattern}$",
                       "description": "owner/repo (a Git URL mapped in scm_repos works too)"},
        "sha": {"type": "string", "pattern": "^[0-9a-fA-F]{40}$"},
        "environment": {"type": "string", "minLength": 1, "maxLength": MAX_ENVIRONMENT,
                        "pattern": r"\S"},
        "status": {"enum": list(DEPLOY_WEBHOOK_STATES)},
        "url": {"type": "string"},
        "deployment_id": {"type": ["string", "integer"],
                          "description": "tells two deploys of one commit apart"},
        "description": {"type": "string"},
        "timestamp": timestamp(per_second=1, description="ISO 8601 or epoch seconds; when "
                               "it is missing, the moment the event arrives"),
    },
}
SENT = {
    "parameters": [
        header(SIGNATURE_HEADER, "`sha256=` and the hex HMAC-SHA256 of the body, keyed with "
               "DEPLOY_WEBHOOK_SECRET", pattern=HMAC_SHA256),
        header(TOKEN_HEADER, "DEPLOY_WEBHOOK_SECRET itself, for senders that cannot sign"),
    ],
    "requestBody": json_body(DEPLOY_EVENT, "the deploy event of DESIGN.md"),
}


@router.post("/deploy", status_code=202, openapi_extra=SENT, response_model=None,
             responses=webhook_answers(
                 malformed="not a JSON object, or not a deploy event (the answer names the "
                           "field)",
                 unauthorized=f"neither a matching {SIGNATURE_HEADER} nor {TOKEN_HEADER}"))
async def deploy_webhook(request: Request, settings: SettingsDep, ingest: IngestDep,
                         config: ConfigDep, tracer: TracerDep) -> JSONResponse:
    """A deploy event from any deploy tool, signed (or with the secret as a token)."""
    with tracer.span("verify"):
        body = await signed_or_token_body(
            request, settings.deploy_webhook_secret, variable="DEPLOY_WEBHOOK_SECRET",
            signature_header=SIGNATURE_HEADER, token_header=TOKEN_HEADER)
    with tracer.span("parse"):
        payload = decode_json(body, request.headers.get("content-type"))
        try:
            event = parse_deploy(payload, received_at=datetime.now(UTC),
                                 scm_repos=config.scm)
        except ParseError as exc:
            raise RequestError(400, str(exc)) from None

    delivery_id = deploy_delivery_id(payload)
    result = await ingest.record_async(
        source="deploy",
        delivery_id=delivery_id,
        event_type=event.data.get("status", "deployment"),
        events=[event],
    )
    if result.outcome == "duplicate":
        return JSONResponse({"status": "duplicate", "delivery": delivery_id}, status_code=200)
    return JSONResponse(
        {"status": result.outcome, "delivery": delivery_id,
         "card": f"/api/cards/{event.repo}/{event.sha}"},
        status_code=202,
    )
