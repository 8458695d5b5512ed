"""POST /webhooks/github: GitHub deliveries, signed with X-Hub-Signature-256."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from correlation.events import ParseError
from correlation.github import parse_github
from devexbot.errors import RequestError
from devexbot.http.answers import webhook_answers
from devexbot.http.deps import IngestDep, SettingsDep, TracerDep
from handlers.webhooks.metered import MeteredRoute
from handlers.webhooks.openapi import HMAC_SHA256, header, json_body
from handlers.webhooks.verify import decode_json, read_body, require_secret, verify_hmac_sha256

router = APIRouter(route_class=MeteredRoute)

MAX_DELIVERY_ID = 200  # the deliveries table's column; GitHub's are 36-character GUIDs

SENT = {
    "parameters": [
        header("X-GitHub-Event", "the event type: push, pull_request, check_run, ...",
               required=True),
        header("X-GitHub-Delivery", "the delivery's GUID; a redelivery repeats it",
               required=True, max_length=MAX_DELIVERY_ID),
        header("X-Hub-Signature-256", "`sha256=` and the hex HMAC-SHA256 of the body, keyed "
               "with GITHUB_WEBHOOK_SECRET", required=True, pattern=HMAC_SHA256),
    ],
    # GitHub's older form encoding (`payload=<the JSON>`) is read too; JSON is what to set.
    "requestBody": json_body({"type": "object"}, "the event's payload, as GitHub sends it"),
}


@router.post("/github", status_code=202, openapi_extra=SENT, response_model=None,
             responses=webhook_answers(
                 malformed="missing X-GitHub-Event or X-GitHub-Delivery (or one over 200 "
                           "characters), or a body that is not a JSON object (one GitHub "
                           "sends but the bot cannot read is kept, 202 `unparsed`)",
                 unauthorized="missing X-Hub-Signature-256, or it does not match the body"))
async def github_webhook(request: Request, settings: SettingsDep, ingest: IngestDep,
                         tracer: TracerDep) -> JSONResponse:
    """A GitHub delivery: checked against its signature, stored once per delivery id."""
    with tracer.span("verify"):
        secret = require_secret(settings.github_webhook_secret, "GITHUB_WEBHOOK_SECRET")
        body = await read_body(request)
        verify_hmac_sha256(secret=secret, body=body, name="X-Hub-Signature-256",
                           header=request.headers.get("x-hub-signature-256"))
        event_type = request.headers.get("x-github-event")
        delivery_id = request.headers.get("x-github-delivery")
        if not event_type or not delivery_id:
            raise RequestError(400, "missing X-GitHub-Event or X-GitHub-Delivery header")
        if len(delivery_id) > MAX_DELIVERY_ID:
            raise RequestError(400, f"X-GitHub-Delivery is longer than {MAX_DELIVERY_ID} "
                                    "characters")

    parse_error = None
    with tracer.span("parse", attributes={"devexbot.delivery.event": event_type}) as span:
        payload = decode_json(body, request.headers.get("content-type"))
        try:
            events = parse_github(event_type, payload, received_at=datetime.now(UTC))
        except ParseError as exc:
            events, parse_error = [], str(exc)
        span.set_attribute("devexbot.events", len(events))
    result = await ingest.record_async(
        source="github",
        delivery_id=delivery_id,
        event_type=event_type,
        events=events,
        payload=payload,
        parse_error=parse_error,
    )
    if result.outcome == "duplicate":
        return JSONResponse({"status": "duplicate", "delivery": delivery_id}, status_code=200)
    return JSONResponse(
        {"status": result.outcome, "delivery": delivery_id, "events": len(events)},
        status_code=202,
    )
