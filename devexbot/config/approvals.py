"""`approvals:`: who decides on deployments to an environment, and what happens then."""

from __future__ import annotations

from string import Formatter
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from correlation import policies
from correlation.principals import person_count
from devexbot.config.base import Duration, Principal, Strict

PLACEHOLDERS = ("sha", "short_sha", "repo", "environment", "pr")
"""What a promotion job's parameters may name, as `{sha}`: nothing else is substituted."""


def placeholders_of(template: str) -> list[str]:
    """The `{names}` a template uses; ValueError for anything but a bare known name."""
    names = []
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"{template!r}: {exc} (write {{{{ and }}}} for braces)") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            raise ValueError(f"{template!r}: {{{name}}} is not one of "
                             f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
        names.append(name)
    return names


class JenkinsPromotion(Strict):
    """A Jenkins job that promotes the approved build, with templated parameters."""

    job: str = Field(min_length=1)
    parameters: dict[str, str] = Field(default_factory=dict)

    @field_validator("parameters")
    @classmethod
    def _known_placeholders(cls, value: dict[str, str]) -> dict[str, str]:
        for template in value.values():
            placeholders_of(template)
        return value


class OnJenkins(Strict):
    jenkins: JenkinsPromotion


class OnCallback(Strict):
    callback: str = Field(pattern=r"^https?://[^\s/]+(/\S*)?$")


def _on_approve_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "github"
    if isinstance(value, OnJenkins) or (isinstance(value, dict) and "jenkins" in value):
        return "jenkins"
    if isinstance(value, OnCallback) or (isinstance(value, dict) and "callback" in value):
        return "callback"
    return None


OnApprove = Annotated[
    Annotated[Literal["github"], Tag("github")]
    | Annotated[OnJenkins, Tag("jenkins")]
    | Annotated[OnCallback, Tag("callback")],
    Discriminator(
        _on_approve_kind, custom_error_type="on_approve",
        custom_error_message="must be github, {jenkins: {job: ..., parameters: {...}}} or "
                             "{callback: https://...}"),
]
"""What the bot does when a policy is met: approve GitHub's pending deployment, start a
Jenkins promotion job, or POST a signed callback."""


class ApprovalPolicy(Strict):
    """Who decides on deployments to one environment, and what the bot does once they have."""

    approvers: list[Principal] = Field(min_length=1)
    required: int = Field(default=1, ge=1, le=20)
    # None: authors may not approve their own change, except where `notify` asks them to.
    allow_author: bool | None = None
    # Where nobody can tell who wrote a change (no PR, no commit author, GitHub does not
    # say, no deployment creator): may approvers approve it all the same?
    allow_unknown_author: bool = False
    expires_after: Duration | None = None
    on_approve: OnApprove | None = None
    notify: Literal["pr_author"] | None = None
    requested_by_label: str = Field(default="requested-by:", min_length=1)

    @model_validator(mode="after")
    def _enough_approvers(self) -> ApprovalPolicy:
        people = person_count(self.approvers)
        if people is not None and people < self.required:
            raise ValueError(f"required is {self.required}, but only {people} approvers "
                             "are listed")
        return self

    @property
    def authors_may_approve(self) -> bool:
        if self.allow_author is not None:
            return self.allow_author
        return self.notify == "pr_author"

    def policy(self, environment: str) -> policies.ApprovalPolicy:
        """What the decisions read of this policy, for `environment`."""
        return policies.ApprovalPolicy(environment, required=self.required,
                                       notify_author=self.notify == "pr_author",
                                       expires_after=self.expires_after)
