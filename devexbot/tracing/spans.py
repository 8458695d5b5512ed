"""What the bot's parts trace with: a `Tracer` that opens spans, and the null one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Literal, Protocol

AttributeValue = str | bool | int | float
SpanKind = Literal["internal", "server", "client"]


class Span(Protocol):
    def set_attribute(self, key: str, value: AttributeValue) -> None: ...


class Tracer(Protocol):
    """Opens spans in the current context (the thread's, or the request's task's)."""

    @property
    def enabled(self) -> bool: ...

    def span(self, name: str, *, attributes: Mapping[str, AttributeValue] | None = None,
             parent: str | None = None, links: Sequence[str] = (),
             kind: SpanKind = "internal") -> AbstractContextManager[Span]:
        """A span, current inside the `with`: a child of the current span, or of `parent`
        (a W3C `traceparent`, as `traceparent()` gave it, maybe in another process), and
        linked to `links` (more of them). An exception leaving it marks it failed."""
        ...

    def traceparent(self) -> str | None:
        """The current span as a W3C `traceparent` header value, to store and carry on;
        None outside any span (or with tracing off)."""
        ...

    def close(self) -> None:
        """Send what is still buffered."""
        ...


class _NullSpan:
    """A span that records nothing, and its own context manager: one object serves all."""

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        pass

    def __enter__(self) -> _NullSpan:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        return None


_NULL_SPAN = _NullSpan()


class NullTracer:
    """Tracing off: no span is made, nothing is carried."""

    enabled = False

    def span(self, name: str, *, attributes: Mapping[str, AttributeValue] | None = None,
             parent: str | None = None, links: Sequence[str] = (),
             kind: SpanKind = "internal") -> AbstractContextManager[Span]:
        return _NULL_SPAN

    def traceparent(self) -> str | None:
        return None

    def close(self) -> None:
        pass


NULL_TRACER = NullTracer()
