"""Runbooks: team scripts as typed, permissioned, audited Slack commands.

`model` says what a command is, `parse` turns command text into typed arguments,
`registry` builds the commands from the YAML config and plugin modules, `executors` run
them (a local process, a Jenkins job, a Python function), `runs` keeps the audit trail and
the concurrency claims, `stream` shows the output in a Slack thread, and `runner` ties
them together. `runbook` is the decorator plugin modules use.
"""

from devexbot.runbooks.plugin import RunContext, runbook

__all__ = ["RunContext", "runbook"]
