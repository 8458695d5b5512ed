"""The key a mistyped config key most likely meant: `chanel` → `channel`."""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

_SEQUENCES = (list, tuple, set, frozenset)


def nearest_key(model: type[BaseModel], loc: Sequence[int | str]) -> str | None:
    """For an unknown key at `loc` (its last part), the nearest key the config takes
    there, if one is near enough."""
    if not loc or not isinstance(loc[-1], str):
        return None
    found = difflib.get_close_matches(loc[-1], sorted(keys_at(model, loc[:-1])), n=1,
                                      cutoff=0.6)
    return found[0] if found else None


def keys_at(annotation: Any, path: Sequence[int | str]) -> set[str]:
    """The keys the config takes where `path` leads (every member's, under a union)."""
    found: set[str] = set()
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            fields = {(f.alias or name): f for name, f in member.model_fields.items()}
            if not path:
                found |= set(fields)
            elif isinstance(path[0], str) and path[0] in fields:
                found |= keys_at(fields[path[0]].annotation, path[1:])
        elif path and get_origin(member) in _SEQUENCES and isinstance(path[0], int):
            found |= keys_at(get_args(member)[0], path[1:])
        elif path and get_origin(member) in (dict, Mapping):
            found |= keys_at(get_args(member)[1], path[1:])
    if not found and path and isinstance(path[0], str) and len(_members(annotation)) > 1:
        found = keys_at(annotation, path[1:])  # a union's tag, as pydantic names it in `loc`
    return found


def _members(annotation: Any) -> list[Any]:
    """The types an annotation may hold: through `Annotated`, `X | None` and unions."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [annotation] if annotation is not type(None) else []
