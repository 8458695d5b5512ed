"""POST /webhooks/flux: Flux notification-controller's `generic-hmac` (or `generic`) events.

Flux posts its Event JSON as it is. `generic-hmac` signs the body: `X-Signature:
sha256=<hex HMAC-SHA256 of the body>`, keyed with the `token` of the Provider's Secret,
which is DEPLOY_WEBHOOK_SECRET. `generic` cannot sign: its Secret's `headers` send the
secret itself as `X-Devexbot-Token`. correlation.flux maps the event to a deploy.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from correlation.events import REPO_NAME, ParseError
from correlation.flux import parse_flux
from devexbot.errors import RequestError
from devexbot.http.answers import webhook_answers
from devexbot.http.deps import ConfigDep, IngestDep, SettingsDep, TracerDep
from handlers.webhooks.metered import MeteredRoute
from handlers.webhooks.openapi import HMAC_SHA256, header, json_body, timestamp
from handlers.webhooks.verify import decode_json, signed_or_token_body

router = APIRouter(route_class=MeteredRoute)

SIGNATURE_HEADER = "X-Signature"
TOKEN_HEADER = "X-Devexbot-Token"  # noqa: S105 - a header name, not a secret

_NAME = {"type": "string", "minLength": 1, "pattern": r"\S"}
FLUX_EVENT = {
    "type": "object",
    "required": ["involvedObject", "reason"],
    "properties": {
        "involvedObject": {"type": "object", "required": ["kind", "namespace", "name"],
                           "properties": {"kind": _NAME, "namespace": _NAME, "name": _NAME}},
        "severity": {"enum": ["trace", "info", "error"]},
        "timestamp": timestamp(per_second=1, description="when Flux recorded the event"),
        "message": {"type": "string"},
        "reason": _NAME | {"description": "ReconciliationSucceeded, *Failed, Progressing, "
                                          "..."},
        "metadata": {
            "type": "object", "additionalProperties": {"type": "string"},
            "description": "revision (`main@sha1:<sha>`), and repository / environment "
                           "from the Alert's eventMetadata",
            "properties": {
                "repository": {"type": "string", "pattern": f"^{REPO_NAME.pattern}$",
                               "description": "owner/repo (a Git URL mapped in scm_repos "
                                              "works too)"},
            },
        },
        "reportingController": {"type": "string"},
        "reportingInstance": {"type": "string"},
    },
}
SENT = {
    "parameters": [
        header(SIGNATURE_HEADER, "`sha256=` and the hex HMAC-SHA256 of the body, keyed with "
               "DEPLOY_WEBHOOK_SECRET (Flux's `generic-hmac` provider)", pattern=HMAC_SHA256),
        header(TOKEN_HEADER, "DEPLOY_WEBHOOK_SECRET itself (Flux's `generic` provider)"),
    ],
    "requestBody": json_body(FLUX_EVENT, "Flux's Event, as notification-controller sends it"),
}


@router.post("/flux", status_code=202, openapi_extra=SENT, response_model=None,
             responses=webhook_answers(
                 malformed="not a JSON object, or not a Flux event (the answer names the "
                           "field)",
                 unauthorized=f"neither a matching {SIGNATURE_HEADER} nor {TOKEN_HEADER}"))
async def flux_webhook(request: Request, settings: SettingsDep, ingest: IngestDep,
                       config: ConfigDep, tracer: TracerDep) -> JSONResponse:
    """A Flux event, signed by `generic-hmac` (or with the secret as a token)."""
    with tracer.span("verify"):
        body = await signed_or_token_body(
            request, settings.deploy_webhook_secret, variable="DEPLOY_WEBHOOK_SECRET",
            signature_header=SIGNATURE_HEADER, token_header=TOKEN_HEADER)
    with tracer.span("parse"):
        payload = decode_json(body, request.headers.get("content-type"))
        try:
            notification = parse_flux(payload, received_at=datetime.now(UTC),
                                      mapping=config.flux.mapping(), scm_repos=config.scm)
        except ParseError as exc:
            raise RequestError(400, str(exc)) from None

    result = await ingest.record_async(
        source="flux",
        delivery_id=notification.delivery_id,
        event_type=notification.reason,
        events=notification.events,
        payload=payload,
        unattached=notification.unattached,
    )
    answer: dict[str, object] = {"status": result.outcome, "delivery": notification.delivery_id}
    if result.outcome == "duplicate":
        return JSONResponse(answer, status_code=200)
    if notification.unattached:
        answer["detail"] = notification.unattached
    for event in notification.events:
        answer["card"] = f"/api/cards/{event.repo}/{event.sha}"
    return JSONResponse(answer, status_code=202)
