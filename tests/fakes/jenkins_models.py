"""What the fake Jenkins holds, as plain data a test sets up and asserts on (snapshots)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]
Value = str | bool

DEFAULT_USER = "devexbot"
DEFAULT_API_TOKEN = "11d3b1f0c5a04b6f9e2c8a7d6b5e4f3a21"  # shaped like a Jenkins API token
CRUMB_FIELD = "Jenkins-Crumb"
JENKINS_VERSION = "2.452.3"
RESULTS = ("SUCCESS", "UNSTABLE", "FAILURE", "NOT_BUILT", "ABORTED")

PARAMETER_CLASSES = {
    "string": "hudson.model.StringParameter",
    "text": "hudson.model.TextParameter",
    "boolean": "hudson.model.BooleanParameter",
    "choice": "hudson.model.ChoiceParameter",
    "password": "hudson.model.PasswordParameter",
}


@dataclass(frozen=True)
class Param:
    """A parameter definition; `kind` is inferred (bool default: boolean, choices: choice)."""

    name: str
    default: Value = ""
    choices: tuple[str, ...] = ()
    description: str = ""
    kind: str = ""

    @property
    def type(self) -> str:
        if self.kind:
            return self.kind
        if isinstance(self.default, bool):
            return "boolean"
        return "choice" if self.choices else "string"

    @property
    def default_value(self) -> Value:
        if self.type == "choice":
            return self.choices[0] if self.choices else ""
        return self.default

    def coerce(self, raw: str) -> Value:
        """The value Jenkins stores for `raw` as sent; ValueError for an illegal choice."""
        if self.type == "boolean":
            return raw.strip().lower() in ("true", "on", "1", "yes")
        if self.type == "choice" and raw not in self.choices:
            raise ValueError(f"Illegal choice for parameter {self.name}: {raw}")
        return raw


@dataclass(frozen=True)
class Checkout:
    """A git checkout a build made (the git plugin's `BuildData`): the remote it cloned,
    the commit it built, and the branch that commit was found on."""

    remote: str
    sha: str
    branch: str = "origin/main"


@dataclass
class Build:
    job: str  # full name, "folder/job"
    number: int
    parameters: dict[str, Value]  # effective: sent values, defaults for the rest
    user: str
    queue_id: int
    timestamp_ms: int  # wall clock the build started
    building: bool = True
    result: str | None = None
    duration_ms: int = 0
    log: str = ""
    changes: list[Json] = field(default_factory=list)  # {"commitId", "msg", "author"}
    started_monotonic: float = 0.0
    checkouts: list[Checkout] = field(default_factory=list)


@dataclass
class Job:
    full_name: str
    kind: str = "freestyle"  # freestyle, pipeline, folder
    parameters: list[Param] = field(default_factory=list)
    description: str = ""
    next_build_number: int = 1
    builds: dict[int, Build] = field(default_factory=dict)
    queue_delay: float | None = None  # None: the server's default
    quiet_polls: int | None = None
    auto_result: str | None = None  # finish each build at once with this result
    auto_log: str = ""

    @property
    def name(self) -> str:
        return self.full_name.rsplit("/", 1)[-1]


@dataclass
class QueueItem:
    id: int
    job: str
    parameters: dict[str, Value]  # effective
    sent: dict[str, str]  # as the client sent them (undefined ones included)
    user: str
    queued_at: float  # wall clock
    queued_monotonic: float
    delay: float
    quiet_polls: int
    polls: int = 0
    build_number: int | None = None
    cancelled: bool = False


@dataclass(frozen=True)
class Trigger:
    """A build someone asked for: what they sent, what Jenkins kept, and the build it became."""

    job: str
    queue_id: int
    parameters: dict[str, Value]  # effective (what the build ran with)
    sent: dict[str, str]  # as sent (Jenkins drops undefined parameters)
    user: str
    at: float
    build_number: int | None
    cancelled: bool

    @classmethod
    def of(cls, item: QueueItem) -> Trigger:
        return cls(
            item.job,
            item.id,
            dict(item.parameters),
            dict(item.sent),
            item.user,
            item.queued_at,
            item.build_number,
            item.cancelled,
        )
