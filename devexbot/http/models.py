"""The read API's answers as models, for the OpenAPI schema (DESIGN.md's card model).

Like devexbot.http.answers, they document and do not validate: the routes serve the JSON the
rest of the bot builds, and the schema fuzz test holds the two together. A card is open
to keys added after these (`extra="allow"`); the ones listed are the ones API users rely on.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["pending", "running", "waiting", "success", "failure", "cancelled",
                 "skipped", "neutral"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class AuthorDoc(_Open):
    login: str | None
    name: str | None


class PullRequestDoc(_Open):
    number: int
    title: str
    state: Literal["open", "closed", "merged"]
    url: str | None
    review: Literal["approved", "changes_requested", "pending"] | None


class CheckDoc(_Open):
    source: str = Field(description="github, jenkins, ...")
    name: str
    status: Status
    url: str | None
    updated_at: str | None = Field(description="ISO 8601")


class ApprovalDoc(_Open):
    state: Literal["waiting", "approved", "rejected", "expired"]
    by: list[str] = Field(description="GitHub logins or Slack user ids")


class DeploymentDoc(_Open):
    environment: str
    status: Status
    url: str | None
    approval: ApprovalDoc | None = None


class TicketDoc(_Open):
    key: str
    url: str | None = None
    title: str | None = None
    status: str | None = None


class MergeQueueDoc(_Open):
    state: Literal["queued", "merged", "dequeued", "invalidated"]
    since: str | None = Field(description="ISO 8601: when it entered the queue (queued only)")
    queue_sha: str | None = Field(description="the queue's temporary commit it is tested on")


class SlackMessageDoc(_Open):
    channel: str
    ts: str
    pending: bool = Field(description="the message does not show the card's latest state yet")
    thread_ts: str | None = Field(
        default=None, description="a reply in this thread: its pull request's message, where "
        "a route posts one message per pull request (absent for a top-level message)")


class CardDoc(_Open):
    """One commit's card."""

    repo: str
    sha: str
    branch: str | None
    message: str | None = Field(description="the commit message's first line")
    author: AuthorDoc | None
    pull_request: PullRequestDoc | None
    checks: list[CheckDoc]
    deployments: list[DeploymentDoc]
    tickets: list[TicketDoc]
    overall: Status
    superseded_by: str | None
    merge_queue: MergeQueueDoc | None = Field(
        default=None, description="where its pull request stands in GitHub's merge queue")
    slack: SlackMessageDoc | None = Field(description="the first of its Slack messages")
    slack_messages: list[SlackMessageDoc] = Field(
        description="its Slack messages, one per channel its routes take it to, the first first")
    updated_at: str | None = Field(description="ISO 8601")


class CardList(BaseModel):
    cards: list[CardDoc] = Field(description="newest first")


class EnvironmentDoc(_Open):
    repo: str
    environment: str
    sha: str
    since: str | None = Field(description="ISO 8601")
    by: str | None
    card: str = Field(description="the commit's card in the read API")


class EnvironmentList(BaseModel):
    environments: list[EnvironmentDoc]


class AuditDoc(_Open):
    at: str = Field(description="ISO 8601")
    slack_user: str
    github_login: str | None
    action: str = Field(description="a card's button (card.merge, …), or a refused command "
                                    "(/devex subscribe)")
    repo: str | None
    sha: str | None
    environment: str | None
    target: str | None = Field(description="what the click acted on; a command's channel")
    result: str = Field(description="ok, refused, failed or duplicate")
    detail: str | None
    error_id: str | None


class AuditList(BaseModel):
    audit: list[AuditDoc] = Field(description="newest first")


class RunDoc(_Open):
    id: int
    command: str
    executor: str = Field(description="local, jenkins or python")
    user: str
    args: dict[str, Any] | None = Field(
        description="as shown, secrets redacted; null when `hidden`")
    status: str
    reason: str | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    exit_code: int | None
    output_tail: str | None = Field(description="the output's redacted tail")
    hidden: bool = Field(
        default=False,
        description="the arguments and output are not this reader's to see: only people who "
                    "may run the runbook, and whoever ran it, see them")


class RunList(BaseModel):
    runs: list[RunDoc] = Field(description="newest first")


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: str = Field(description="`ok`, or the error reaching it")
