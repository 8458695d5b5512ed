"""POST /slack/events: Slack events, slash commands and interactivity, handed to Bolt.

Every request is verified here, once, before Bolt sees it (Bolt parses the body as it takes
it in, and slack_sdk's check raises on a timestamp that is not a number): the signature,
the timestamp by the bot's clock (5 minutes old at most, and at most `FUTURE_SKEW` ahead),
and that it was not answered before, on any replica. Which workspace it comes from is
Bolt's middleware's to check (`handlers.slack.workspace`), as Socket Mode requests carry
no signature but do name their workspace. The dispatch runs in a worker thread so the
event loop never waits on a listener, and Bolt answers as soon as the listener has
acknowledged.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, SecretStr
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier
from starlette.datastructures import Headers

from correlation.slack_requests import Repeat, request_key, timestamp_refusal
from devexbot.errors import RequestError
from devexbot.http.answers import ErrorAnswer, refusals
from devexbot.store.seen_requests import SeenRequests
from handlers.slack.envelope import check_slack_body
from handlers.webhooks.openapi import header
from handlers.webhooks.verify import read_body

log = logging.getLogger(__name__)

router = APIRouter()

MAX_SLACK_BODY = 1024 * 1024
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
REFUSED = {"error": "invalid request"}  # a signature that is not the request's
REPLAYED = "the request was already answered"


class BoltRefusal(BaseModel):
    """Bolt's own refusals."""

    error: str


SENT = {
    "parameters": [
        header("X-Slack-Request-Timestamp", "epoch seconds; older than 5 minutes, or more "
               "than a minute ahead of the bot's clock, is refused", required=True),
        header("X-Slack-Signature", "`v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{body}`, "
               "keyed with SLACK_SIGNING_SECRET", required=True, pattern=r"^v0=[0-9a-f]{64}$"),
    ],
    "requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "object"},
                             "description": "an Events API callback"},
        "application/x-www-form-urlencoded": {
            "schema": {"type": "object", "additionalProperties": {"type": "string"}},
            "description": "a slash command's fields, or an interaction's `payload=<JSON>`"},
    }},
}
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "acknowledged; the body is what Bolt answers Slack (often empty)",
          "content": {"application/json": {"schema": {"type": "object"}},
                      "text/plain": {"schema": {"type": "string"}}}},
    400: {"model": ErrorAnswer, "description": "signed, but not a form or a JSON object in "
          "Slack's shape (an interaction that names no action, JSON nested too deep)"},
    401: {"model": BoltRefusal, "description": "bad signature, a timestamp too old or too far "
          "ahead, or a request already answered (a replay)"},
    403: {"model": BoltRefusal, "description": "from another Slack workspace than the bot's "
          "(a slash command is answered 200, with a message saying so)"},
    404: {"model": BoltRefusal, "description": "no listener for this request"},
    **refusals({413: "body over the size limit",
                503: "Slack is off (SLACK_BOT_TOKEN) or SLACK_SIGNING_SECRET is not set"}),
}


class SlackEvents(Protocol):
    """What answers a request to /slack/events."""

    async def answer(self, request: Request) -> Response: ...


class BoltEvents:
    """Slack is on: a request signed with SLACK_SIGNING_SECRET, fresh by `clock` and not seen
    before is dispatched by Bolt."""

    def __init__(self, bolt: App, *, signing_secret: SecretStr | None, seen: SeenRequests,
                 clock: Callable[[], datetime]) -> None:
        self._bolt, self._secret = bolt, signing_secret
        self._seen, self._clock = seen, clock

    async def answer(self, request: Request) -> Response:
        if self._secret is None:
            raise RequestError(503, "SLACK_SIGNING_SECRET is not configured, so requests "
                                    "cannot be verified")
        body = (await read_body(request, limit=MAX_SLACK_BODY)).decode("utf-8",
                                                                       errors="replace")
        if not _signed_by_slack(self._secret.get_secret_value(), body, request.headers):
            return JSONResponse(REFUSED, status_code=401)
        timestamp = int(request.headers["x-slack-request-timestamp"])
        if (late := timestamp_refusal(timestamp, self._clock().timestamp())) is not None:
            log.warning("Slack request refused: %s (stamped %d)", late, timestamp)
            return JSONResponse({"error": late}, status_code=401)
        check_slack_body(body, request.headers.get("content-type"))
        try:
            bolt_request = BoltRequest(body=body, query=request.url.query,
                                       headers={k: v for k, v in request.headers.items()})
        except (ValueError, TypeError, AttributeError):
            # Bolt reads the body as it builds the request: a `payload` that is not JSON, or
            # JSON that is not an object, raises there.
            raise RequestError(400, "the body is not one Slack sends: not a form, or not a "
                                    "JSON object") from None
        key = request_key(body, request.headers["x-slack-signature"])
        if not await run_in_threadpool(self._seen.first_sighting, key.key):
            log.warning("Slack request seen before, not handled again: %s", key.key)
            if key.repeat is Repeat.RETRY:  # Slack delivering an event again
                return Response(status_code=200)
            return JSONResponse({"error": REPLAYED}, status_code=401)
        bolt_response = await run_in_threadpool(self._bolt.dispatch, bolt_request)
        response = Response(content=bolt_response.body, status_code=bolt_response.status)
        for name, values in bolt_response.headers.items():
            if name.lower() != "content-length":
                for value in values:
                    response.headers.append(name, value)
        return response


class SlackOff:
    """Slack is off (no SLACK_BOT_TOKEN): every request is answered 503, unread."""

    async def answer(self, request: Request) -> Response:
        raise RequestError(503, "Slack is off: SLACK_BOT_TOKEN is not set")


async def slack_events_of(request: Request) -> SlackEvents:
    events: SlackEvents = request.app.state.slack_events
    return events


SlackEventsDep = Annotated[SlackEvents, Depends(slack_events_of)]


@router.post("/slack/events", openapi_extra=SENT, response_model=None, responses=ANSWERS)
async def slack_events(request: Request, events: SlackEventsDep) -> Response:
    """Slack events, slash commands and interactivity, verified and dispatched by Bolt."""
    return await events.answer(request)


def _signed_by_slack(secret: str, body: str, headers: Headers) -> bool:
    """Slack's signature over `v0:{timestamp}:{body}` (how fresh it is, is the caller's to
    judge, by the bot's clock). A timestamp that is not a number, or a signature that is
    not ASCII, is not Slack's (slack_sdk's verifier would raise on either)."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not _TIMESTAMP.fullmatch(timestamp) or not signature.isascii():
        return False
    expected = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return expected is not None and hmac.compare_digest(expected, signature)
