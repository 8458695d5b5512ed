"""A pull request card's "Request review" and "Label" menus: their options and values.

They are `external_select` menus: Slack asks the bot for their options as the user types
(`block_suggestion`), so the lists are the repository's collaborators, teams and labels as
GitHub has them at that moment. A select has no `value` of its own and an option's value
holds at most 150 characters, so the card the menu belongs to travels in its `action_id`
(`card.label:{"r":…,"s":…,"n":12}`) and the option's value says only whom or what.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from devexbot.actions.ids import ActionId, ButtonValue
from devexbot.errors import DevexbotError

MAX_OPTION_VALUE = 150


class Reviewer(BaseModel):
    """A "Request review" option's value: a user's login or a team's slug."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    login: str | None = Field(default=None, alias="u")
    team: str | None = Field(default=None, alias="t")

    def encode(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)

    @classmethod
    def decode(cls, raw: str) -> Reviewer:
        try:
            reviewer = cls.model_validate_json(raw)
        except ValidationError:
            reviewer = cls()
        if (reviewer.login is None) == (reviewer.team is None):
            raise DevexbotError("that is not a person or a team; pick one from the list")
        return reviewer

    def shown(self, owner: str) -> str:
        """As GitHub mentions it: `@ben`, or `@octo-org/reviewers` (teams are the owner's)."""
        return f"@{self.login}" if self.login else f"@{owner}/{self.team}"


def select_action_id(action: ActionId, card_ref: ButtonValue) -> str:
    """As `correlation.buttons.pr_menus` names the card's menus."""
    return f"{action.value}:{card_ref.encode()}"


def card_ref_of(action_id: str) -> ButtonValue:
    """The card (repo, sha, pull request) a menu's `action_id` names."""
    return ButtonValue.decode(action_id.split(":", 1)[1] if ":" in action_id else "")
