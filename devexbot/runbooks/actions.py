"""Slack ids of the runbook buttons and modal, and the small typed values they carry."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

MAX_BUTTON_VALUE = 2000  # Slack's limit on a button's value


class RunbookAction(StrEnum):
    CONFIRM_RUN = "runbook_confirm_run"
    CONFIRM_CANCEL = "runbook_confirm_cancel"
    RUN_AGAIN = "runbook_run_again"


class RunbookView(StrEnum):
    PARAMS = "runbook_params"  # the modal asking for parameters


PARAM_BLOCK = "param:"  # a modal input's block_id is PARAM_BLOCK + the parameter's name
PARAM_ACTION = "value"


class RunButton(BaseModel):
    """A button's value: which run it is about, and the arguments to run (as typed; secret
    parameters are never put in a button, a modal asks for them again)."""

    model_config = ConfigDict(extra="forbid")

    run: int
    args: dict[str, str] = Field(default_factory=dict)

    def value(self) -> str:
        """As JSON; arguments are left out when they would not fit Slack's limit."""
        text = self.model_dump_json()
        if len(text) <= MAX_BUTTON_VALUE:
            return text
        return RunButton(run=self.run).model_dump_json()


class ModalState(BaseModel):
    """The modal's private_metadata: what the parameters are for."""

    model_config = ConfigDict(extra="forbid")

    command: str
    channel_id: str
    channel_name: str | None = None
    rerun_of: int | None = None
