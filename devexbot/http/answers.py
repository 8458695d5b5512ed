"""What the HTTP routes answer besides their own data, declared for the OpenAPI schema.

These models only document (`responses=`): routes build their JSON themselves, so a model
that drifts from an answer fails the schema fuzz test (tests/test_openapi_fuzz.py), never a
request in production.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from devexbot.http.bodies import MAX_BODY_BYTES, MAX_JSON_DEPTH


class ErrorAnswer(BaseModel):
    """Every refusal, whatever its status: one line for whoever sent the request."""

    detail: str = Field(description="what was wrong, in one line")


class WebhookReceipt(BaseModel):
    """A webhook delivery taken in (202) or recognised as one already stored (200)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["stored", "ignored", "unparsed", "unattached", "duplicate"] = Field(
        description="stored: it changed cards; ignored: an event type the bot does not show; "
                    "unparsed: kept for a replay, it could not be read; unattached: it "
                    "belongs to no commit; duplicate: this delivery id was seen before")
    delivery: str = Field(description="the id the delivery is deduplicated under")
    events: int | None = Field(None, description="how many events were read from it")
    card: str | None = Field(None, description="its card in the read API")
    detail: str | None = Field(None, description="why it attaches to no card")


def refusals(reasons: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """FastAPI `responses=` for the statuses a route refuses with, each with its reason."""
    return {code: {"model": ErrorAnswer, "description": why} for code, why in reasons.items()}


def webhook_answers(*, malformed: str, unauthorized: str) -> dict[int | str, dict[str, Any]]:
    """FastAPI `responses=` for a webhook receiver: DESIGN.md's HTTP contract."""
    return {
        202: {"model": WebhookReceipt, "description": "taken in; its cards update shortly"},
        200: {"model": WebhookReceipt,
              "description": "a delivery seen before: nothing changed (`duplicate`)"},
        **refusals({
            400: f"{malformed}; or JSON nested deeper than {MAX_JSON_DEPTH} levels",
            401: unauthorized,
            413: f"body over the size limit ({MAX_BODY_BYTES // 1024 // 1024} MB)",
            503: "the receiver's secret is not configured, so nothing can be verified",
        }),
    }
