"""What the work at hand is about, for every log line written meanwhile: the delivery
being taken in, the card being flushed. Context variables follow the work into the
threads FastAPI hands it to."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

delivery_id: ContextVar[str | None] = ContextVar("delivery_id", default=None)
card_key: ContextVar[str | None] = ContextVar("card_key", default=None)


def on_delivery(delivery: str) -> None:
    """The rest of this request takes in `delivery` (its context ends with the request)."""
    delivery_id.set(delivery)


@contextmanager
def on_card(repo: str, sha: str) -> Iterator[None]:
    """The lines written inside are about this commit's card (`owner/repo@abc1234`)."""
    token = card_key.set(f"{repo}@{sha[:7]}")
    try:
        yield
    finally:
        card_key.reset(token)
