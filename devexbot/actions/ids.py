"""Action ids and button values: enums and a small typed model, never hand-split strings."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from correlation.button_blocks import ActionId, ButtonRef
from devexbot.errors import DevexbotError

__all__ = ["ACTION_PATTERN", "ActionId", "ButtonValue"]

ACTION_PATTERN = re.compile(r"^card\.")


class ButtonValue(BaseModel):
    """What a button carries back: which card and which part of it (short keys: Slack
    caps a value at 2000 characters)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    repo: str = Field(alias="r")
    sha: str = Field(alias="s", pattern=r"^[0-9a-f]{40}$")
    target: str | None = Field(default=None, alias="t")  # check, environment or button name
    pr: int | None = Field(default=None, alias="n")
    method: str | None = Field(default=None, alias="m")  # merge method
    button: str | None = Field(default=None, alias="b")  # a custom button's id
    slot: tuple[str, str, str] | None = Field(default=None, alias="l")  # a check's slot

    def encode(self) -> str:
        """As the card's buttons carry it (`correlation.button_blocks.ButtonRef`)."""
        return ButtonRef(self.repo, self.sha, self.target, self.pr, self.method,
                         self.button, self.slot).encode()

    @classmethod
    def decode(cls, raw: str | None) -> ButtonValue:
        try:
            return cls.model_validate_json(raw or "")
        except ValidationError:
            raise DevexbotError("this button is from an older version of the bot; "
                                "use the buttons on the current card") from None
