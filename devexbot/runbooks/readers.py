"""Who may read a run's arguments and output: whoever may run its runbook (its `allowed`,
decided by the same Authorizer that decides who runs it) and whoever ran it. A reader the
bot cannot name (the web token, an open API) reads them only for runbooks allowed to
everyone; on the bot's own machine, every run. The rest of a run (who ran what, where,
when, how it ended) is for every reader of the API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from correlation.principals import allows_everyone
from devexbot.runbooks.registry import Runbooks
from devexbot.runbooks.runs import run_json
from devexbot.slack.authz import Authorizer
from devexbot.store import RunbookRun

HIDDEN = ("args", "output_tail")


@dataclass(frozen=True)
class Reader:
    """Who reads: a Slack user signed in (`user_id`), someone the bot cannot name (None), or
    the bot's own machine (`everything`)."""

    user_id: str | None = None
    everything: bool = False


class RunReaders:
    def __init__(self, runbooks: Runbooks, authorizer: Authorizer) -> None:
        self._runbooks, self._authorizer = runbooks, authorizer

    def shown(self, reader: Reader, runs: Sequence[RunbookRun]) -> list[dict[str, Any]]:
        """The runs as `GET /api/runs` serves them to `reader`: the arguments and output
        of those it may not read are null, and `hidden` says so."""
        may_run: dict[str, bool] = {}
        docs = []
        for run in runs:
            doc = run_json(run)
            if not (reader.everything or (reader.user_id and run.user_id == reader.user_id)):
                if run.command not in may_run:
                    may_run[run.command] = self._may_run(reader, run.command)
                if not may_run[run.command]:
                    doc.update(dict.fromkeys(HIDDEN))
                    doc["hidden"] = True
            docs.append(doc)
        return docs

    def _may_run(self, reader: Reader, name: str) -> bool:
        command = self._runbooks.get(name)
        if command is None:  # no longer in the config: nobody may run it now
            return False
        if reader.user_id is None:
            return allows_everyone(list(command.allowed))
        return self._authorizer.check(reader.user_id, command.allowed).allowed
