"""Reading fields out of a decoded JSON payload, with ParseErrors that say which field."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from correlation.events import ParseError

_MISSING = object()


class Fields:
    """A view of a JSON object; `req` raises ParseError naming the path, `opt` returns None."""

    def __init__(self, raw: object, path: str = "") -> None:
        if not isinstance(raw, Mapping):
            raise ParseError(f"{path or 'payload'} is not a JSON object")
        self.raw: Mapping[str, Any] = raw
        self.path = path

    def _lookup(self, dotted: str) -> Any:
        value: Any = self.raw
        for key in dotted.split("."):
            if not isinstance(value, Mapping) or key not in value:
                return _MISSING
            value = value[key]
        return value

    def req(self, dotted: str) -> Any:
        value = self._lookup(dotted)
        if value is _MISSING or value is None:
            raise ParseError(f"missing field {self._name(dotted)}")
        return value

    def opt(self, dotted: str, default: Any = None) -> Any:
        value = self._lookup(dotted)
        return default if value is _MISSING or value is None else value

    def str(self, dotted: str) -> str:
        value = self.req(dotted)
        if not isinstance(value, str):
            raise ParseError(f"field {self._name(dotted)} is not a string")
        return value

    def ostr(self, dotted: builtins.str) -> builtins.str | None:
        """An optional string field; present with another type is a ParseError."""
        value = self.opt(dotted)
        if value is not None and not isinstance(value, builtins.str):
            raise ParseError(f"field {self._name(dotted)} is not a string")
        return value

    def oint(self, dotted: builtins.str) -> int | None:
        """An optional integer field; present with another type is a ParseError."""
        value = self.opt(dotted)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ParseError(f"field {self._name(dotted)} is not an integer")
        return value

    def obj(self, dotted: builtins.str) -> Fields:
        return Fields(self.req(dotted), self._name(dotted))

    def objs(self, dotted: builtins.str) -> list[Fields]:
        value = self.opt(dotted, [])
        if not isinstance(value, list):
            raise ParseError(f"field {self._name(dotted)} is not a list")
        return [Fields(item, f"{self._name(dotted)}[{i}]") for i, item in enumerate(value)]

    def _name(self, dotted: builtins.str) -> builtins.str:
        return f"{self.path}.{dotted}" if self.path else dotted
