"""`flux:`: which repository (and environment) each Flux object deploys."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from correlation.events import REPO_NAME
from correlation.flux import FluxMapping, FluxObject
from devexbot.config.base import Strict


class FluxObjectRule(Strict):
    """Objects whose `<namespace>/<name>` matches the glob `match` (and whose kind is
    `kind`, e.g. `Kustomization` or `HelmRelease`, when set) deploy `repo`, to
    `environment` (unset: the object's name)."""

    match: Annotated[str, Field(min_length=1, max_length=255)]
    repo: Annotated[str, Field(pattern=f"^{REPO_NAME.pattern}$")]
    environment: Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")] | None = None
    kind: Annotated[str, Field(min_length=1, max_length=100)] | None = None


class FluxSettings(Strict):
    """`objects`: the rules, first match wins."""

    objects: list[FluxObjectRule] = Field(default_factory=list)

    def mapping(self) -> FluxMapping:
        """What the Flux parser reads."""
        return FluxMapping(tuple(
            FluxObject(match=r.match, repo=r.repo, environment=r.environment, kind=r.kind)
            for r in self.objects))
