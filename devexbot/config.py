"""The team's YAML config (`DEVEXBOT_CONFIG`): routing, people, environments, approvals,
runbooks, the scheduler.

Errors name the file and line: `config/devexbot.yaml:7: routes[0].channel: Field required`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, time, timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from string import Formatter
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from correlation.scm import ScmRepos
from correlation.tickets import TicketRules
from devexbot.config_buttons import CustomButton, unique_keys
from devexbot.errors import ConfigError
from devexbot.runbooks.model import (
    ENV_NAME,
    MAX_STR,
    NAME,
    PARAM_NAME,
    Param,
    ParamType,
    check_argv,
    placeholders,
    render_value,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Person(_Strict):
    """A GitHub login's Slack identity."""

    slack: str = Field(pattern=r"^[UW][A-Z0-9]+$")
    email: str | None = None


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class NudgeTimes(_Strict):
    """The nudge and stuck-build limits a route may override (unset: the global ones)."""

    review_nudge_after_hours: float | None = Field(default=None, ge=0)
    approval_nudge_after_hours: float | None = Field(default=None, ge=0)
    # Deprecated and no longer read: expiry is the environment's (`approvals.<env>`).
    approval_expires_after_hours: float | None = Field(default=None, ge=0)
    stuck_after_minutes: float | None = Field(default=None, ge=0)
    max_nudges: int | None = Field(default=None, ge=0)


class Route(_Strict):
    """Which channel a repo's cards go to, for which branches."""

    repos: list[str] = Field(min_length=1)
    channel: str = Field(min_length=1)
    branches: list[str] = Field(default_factory=lambda: ["*"])
    exclude_branches: list[str] = Field(default_factory=list)
    pull_requests: bool = False  # also take the head commits of open PRs, whatever the branch
    labels: list[str] = Field(default_factory=list)  # only PRs with one of these labels
    dm_author_on_failure: bool = False
    schedule: NudgeTimes = Field(default_factory=NudgeTimes)  # this route's nudge limits


Principal = Annotated[str, Field(pattern=r"^(\*|[UW][A-Z0-9]+|S[A-Z0-9]+|@[a-z0-9._-]+)$")]
"""Who may act: `*` (everyone), a Slack user id, a user group id (`S…`) or `@handle`."""


def _everyone() -> list[str]:
    return ["*"]


class RepoPermissions(_Strict):
    """Who may act on one repo's cards (glob), overriding the defaults for these actions."""

    merge: list[Principal] | None = None
    retry: list[Principal] | None = None
    custom: list[Principal] | None = None
    review: list[Principal] | None = None
    label: list[Principal] | None = None


class Permissions(_Strict):
    subscribe: list[Principal] = Field(default_factory=_everyone)
    merge: list[Principal] = Field(default_factory=_everyone)
    retry: list[Principal] = Field(default_factory=_everyone)
    custom: list[Principal] = Field(default_factory=_everyone)
    review: list[Principal] = Field(default_factory=_everyone)  # "Request review" on PR cards
    label: list[Principal] = Field(default_factory=_everyone)  # "Label" on PR cards
    repos: dict[str, RepoPermissions] = Field(default_factory=dict)

    def who_may(self, action: str, repo: str) -> list[str]:
        """Principals allowed `action` on `repo`: the first matching repo glob, else the
        defaults."""
        for glob, perms in self.repos.items():
            if fnmatchcase(repo.lower(), glob.lower()):
                allowed = getattr(perms, action, None)
                if allowed is not None:
                    return list(allowed)
        return list(getattr(self, action))


MergeMethod = Literal["merge", "squash", "rebase"]


def _merge_only() -> list[MergeMethod]:
    return ["merge"]


class MergePolicy(_Strict):
    """How the Merge button merges: the first method is the default; several make a menu."""

    methods: list[MergeMethod] = Field(default_factory=_merge_only, min_length=1)
    # Without branch protection to ask, only merge when every check on the card is green.
    require_green: bool = True


_APPROVER = re.compile(
    r"\*|[UW][A-Z0-9]+|S[A-Z0-9]+|@[a-z0-9._-]+|github:[A-Za-z0-9][A-Za-z0-9-]{0,38}"
    r"|github-team:[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+")


def _approver(value: str) -> str:
    if not _APPROVER.fullmatch(value):
        raise ValueError(f"{value!r} is not an approver: use *, a Slack user id (U…), a user "
                         "group (S… or @handle), github:<login> or github-team:<org>/<team>")
    return value


ApproverPrincipal = Annotated[str, AfterValidator(_approver)]
"""Who may approve: a Principal, `github:<login>`, or `github-team:<org>/<team slug>`
(matched through the `people:` map from the clicker's Slack id to their GitHub login)."""

PLACEHOLDERS = ("sha", "short_sha", "repo", "environment", "pr")
"""What a promotion job's parameters may name, as `{sha}`: nothing else is substituted."""

_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _duration(value: Any) -> Any:
    """`90s`, `30m`, `24h`, `2d`, `1w`, or combined (`1h30m`); a bare number is seconds;
    `never` is 0 (what never ends)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if text == "never":
        return timedelta(0)
    if not text or _DURATION.sub("", text).strip():
        raise ValueError(f"not a duration: {value!r} (say 30m, 24h, 2d)")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in _DURATION.findall(text)))


Duration = Annotated[timedelta, BeforeValidator(_duration)]


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


class JenkinsPromotion(_Strict):
    """A Jenkins job that promotes the approved build, with templated parameters."""

    job: str = Field(min_length=1)
    parameters: dict[str, str] = Field(default_factory=dict)

    @field_validator("parameters")
    @classmethod
    def _known_placeholders(cls, value: dict[str, str]) -> dict[str, str]:
        for template in value.values():
            placeholders_of(template)
        return value


class OnJenkins(_Strict):
    jenkins: JenkinsPromotion


class OnCallback(_Strict):
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


class ApprovalPolicy(_Strict):
    """Who decides on deployments to one environment, and what the bot does once they have."""

    approvers: list[ApproverPrincipal] = Field(min_length=1)
    required: int = Field(default=1, ge=1, le=20)
    # None: authors may not approve their own change, except where `notify` asks them to.
    allow_author: bool | None = None
    expires_after: Duration | None = None
    on_approve: OnApprove | None = None
    notify: Literal["pr_author"] | None = None
    requested_by_label: str = Field(default="requested-by:", min_length=1)

    @model_validator(mode="after")
    def _enough_approvers(self) -> ApprovalPolicy:
        people = set(self.approvers)
        if all(re.fullmatch(r"[UW][A-Z0-9]+|github:.+", p) for p in people) \
                and len(people) < self.required:
            raise ValueError(f"required is {self.required}, but only {len(people)} approvers "
                             "are listed")
        return self

    @property
    def authors_may_approve(self) -> bool:
        if self.allow_author is not None:
            return self.allow_author
        return self.notify == "pr_author"


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return value


CommandName = Annotated[str, Field(pattern=NAME.pattern)]
ParamName = Annotated[str, Field(pattern=PARAM_NAME.pattern)]
EnvName = Annotated[str, Field(pattern=ENV_NAME.pattern)]
ChannelRef = Annotated[str, Field(pattern=r"^(#[a-z0-9_.-]+|[CG][A-Z0-9]+)$")]
Pattern = Annotated[str, AfterValidator(_regex)]


class ParamSpec(_Strict):
    """A runbook parameter in YAML: `days: {type: int, min: 1, max: 90, default: 7}`."""

    type: Literal["str", "int", "bool", "choice"] | None = None  # choices imply choice
    choices: list[int | str] | None = None
    default: bool | int | str | None = None
    min: int | None = None
    max: int | None = None
    pattern: Pattern | None = None
    max_length: int = Field(default=MAX_STR, ge=1, le=3000)
    description: str | None = Field(default=None, max_length=150)
    secret: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ParamSpec:
        self.to_param("param")  # the name is checked as the key; the rest here
        return self

    def to_param(self, name: str) -> Param:
        kind = ParamType(self.type or ("choice" if self.choices else "str"))
        param = Param(name=name, type=kind, default=self.default,
                      choices=tuple(self.choices or ()), min=self.min, max=self.max,
                      pattern=self.pattern, max_length=self.max_length,
                      description=self.description, secret=self.secret)
        param.check()
        if self.default is None:
            return param
        # `default: 7` of a str parameter is the text "7": typed as the parameter says.
        return replace(param, default=param.convert(render_value(self.default)))


class CommandSpec(_Strict):
    """A runbook command in YAML; `run` (a local process) or `jenkins` (a job), not both."""

    description: str = Field(min_length=1, max_length=150)
    params: dict[ParamName, ParamSpec] = Field(default_factory=dict)
    run: list[str] | None = Field(default=None, min_length=1)
    jenkins: str | None = Field(default=None, min_length=1)
    allowed: list[Principal] = Field(min_length=1)
    confirm: bool = False
    timeout: float = Field(default=600, gt=0, le=86400)  # seconds
    concurrency: int = Field(default=1, ge=1, le=100)
    channels: list[ChannelRef] = Field(default_factory=list)
    secrets: list[EnvName] = Field(default_factory=list)
    env: list[EnvName] = Field(default_factory=list)
    cwd: str | None = None
    redact: list[Pattern] = Field(default_factory=list)
    # Run it by itself too: a five-field cron in `schedule.timezone`, as the bot, posting to
    # the first of `channels` (so a scheduled command names at least one channel).
    schedule: str | None = None

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(value)
            except ValueError as exc:
                raise ValueError(f"not a cron schedule ({exc}): say e.g. \"0 6 * * 1-5\"") \
                    from None
        return value

    @field_validator("run")
    @classmethod
    def _placeholders_are_params(cls, value: list[str] | None, info: ValidationInfo
                                 ) -> list[str] | None:
        params = info.data.get("params")
        if value is not None and params is not None:
            if placeholders(value[0]):
                raise ValueError("the program (the first word) cannot be a parameter")
            check_argv(value, [spec.to_param(name) for name, spec in params.items()])
        return value

    @model_validator(mode="after")
    def _scheduled_somewhere(self) -> CommandSpec:
        if self.schedule and not self.channels:
            raise ValueError("a scheduled command needs `channels`: its output goes to the first")
        return self

    @model_validator(mode="after")
    def _one_executor(self) -> CommandSpec:
        if (self.run is None) == (self.jenkins is None):
            raise ValueError("give either run (a command line) or jenkins (a job name)")
        if self.cwd is not None and self.run is None:
            raise ValueError("cwd is only for run commands")
        return self

    def param_list(self) -> tuple[Param, ...]:
        return tuple(spec.to_param(name) for name, spec in self.params.items())


class RunbookSettings(_Strict):
    """Settings every runbook shares."""

    env: list[EnvName] = Field(default_factory=list)  # passed to every local command
    redact: list[Pattern] = Field(default_factory=list)  # regexes redacted from all output
    output_limit: int = Field(default=65536, ge=1024, le=10 * 1024 * 1024)  # chars kept
    update_interval: float = Field(default=2.0, ge=0.1, le=60)  # s between Slack edits
    kill_grace: float = Field(default=5.0, ge=0, le=300)  # s from SIGTERM to SIGKILL
    jenkins_poll: float = Field(default=1.0, ge=0.05, le=60)  # s between Jenkins polls
    workers: int = Field(default=16, ge=1, le=256)  # runs at once in this process



def _working_days() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


class Schedule(_Strict):
    """When people are at work (nudges wait for it) and when nudges and stuck notes are due.

    Hours are working hours for reviews, clock hours for approvals; 0 turns a nudge off.
    """

    timezone: str = "UTC"
    working_hours: str = "09:00-18:00"
    working_days: list[Weekday] = Field(default_factory=_working_days)
    holidays: list[date] = Field(default_factory=list)
    review_nudge_after_hours: float = Field(default=4, ge=0)
    approval_nudge_after_hours: float = Field(default=2, ge=0)
    # Deprecated: the expiry of environments whose policy sets no `expires_after`.
    approval_expires_after_hours: float = Field(default=24, ge=0)
    stuck_after_minutes: float = Field(default=30, ge=0)
    max_nudges: int = Field(default=3, ge=0)  # per pull request or approval request
    check_every_minutes: float = Field(default=5, gt=0, le=60)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as "
                             "Europe/Berlin)") from None
        return value

    @field_validator("working_hours")
    @classmethod
    def _hours_range(cls, value: str) -> str:
        parse_working_hours(value)
        return value

    @property
    def working_window(self) -> tuple[time, time]:
        """`working_hours` as (start, end) local times."""
        return parse_working_hours(self.working_hours)

    def for_route(self, route: Route | None) -> Schedule:
        """These settings with a route's overrides applied."""
        if route is None:
            return self
        overrides = route.schedule.model_dump(exclude_none=True)
        return self.model_copy(update=overrides) if overrides else self


def parse_working_hours(value: str) -> tuple[time, time]:
    """`"09:00-18:00"` as (09:00, 18:00); the end must come after the start."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise ValueError(f"{value!r} is not a range of times like 09:00-18:00") from None
    if end <= start:
        raise ValueError(f"{value!r} ends before it starts (working hours cannot span "
                         "midnight)")
    return start, end


class Retention(_Strict):
    """How long stored data is kept, in days; null keeps it forever."""

    events_days: int | None = Field(default=30, ge=1)
    deliveries_days: int | None = Field(default=30, ge=1)
    cards_days: int | None = Field(default=None, ge=1)
    audit_days: int | None = Field(default=None, ge=1)
    batch_size: int = Field(default=1000, ge=1, le=100_000)
    run_at: time = time(3, 30)  # daily, in the schedule's time zone

    @field_validator("run_at", mode="before")
    @classmethod
    def _quoted_time(cls, value: Any) -> Any:
        # YAML reads an unquoted 3:30 as the number 210 (base 60).
        if isinstance(value, int):
            raise ValueError('write the time in quotes, like "03:30"')
        return value


class OnDeploy(_Strict):
    """What happens to a commit's tickets when it reaches one environment."""

    comment: bool = True
    transition: str | None = Field(default=None, min_length=1, max_length=100)


class Tickets(_Strict):
    """Ticket keys on the cards, and the issue tracker kept current by deploys."""

    projects: list[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{1,9}$")]] = Field(
        default_factory=list)
    pattern: str | None = None
    url: str | None = Field(default=None, pattern=r"^https?://")
    github_issues: bool = True
    ignore: list[str] = Field(default_factory=list)
    cache_ttl: float = Field(default=300.0, ge=0)
    on_deploy: dict[str, OnDeploy] = Field(default_factory=dict)
    on_decision: bool = True

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compiled = re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
            if compiled.match(""):
                raise ValueError("the pattern matches the empty string")
        return value

    def rules(self, jira_url: str | None = None) -> TicketRules:
        """The fold's view; keys link to `url`, else to JIRA_URL."""
        return TicketRules(projects=tuple(self.projects), pattern=self.pattern,
                           url=self.url or jira_url, github_issues=self.github_issues,
                           ignore=tuple(self.ignore))

    def on_deploy_to(self, environment: str) -> OnDeploy | None:
        """The rule for an environment, whatever the case it is written in."""
        wanted = environment.casefold()
        return next((rule for env, rule in self.on_deploy.items() if env.casefold() == wanted),
                    None)


class BotConfig(_Strict):
    routes: list[Route] = Field(default_factory=list)
    permissions: Permissions = Field(default_factory=Permissions)
    merge: MergePolicy = Field(default_factory=MergePolicy)
    approvals: dict[str, ApprovalPolicy] = Field(default_factory=dict)
    people: dict[str, Person] = Field(default_factory=dict)
    environments: list[str] = Field(default_factory=list)
    scm_repos: dict[str, str] = Field(default_factory=dict)
    buttons: list[CustomButton] = Field(default_factory=list)

    _unique_buttons = field_validator("buttons")(unique_keys)
    commands: dict[CommandName, CommandSpec] = Field(default_factory=dict)
    plugins: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$")]] = Field(
        default_factory=list)
    runbooks: RunbookSettings = Field(default_factory=RunbookSettings)

    # Where the config came from: scripts and plugins are found relative to its directory,
    # and later checks (plugins, names) report `file:line` like schema errors do.
    _source: str = PrivateAttr(default="<config>")
    _root: yaml.Node | None = PrivateAttr(default=None)
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    def where(self, loc: Sequence[int | str]) -> str:
        """`file:line` of the YAML at `loc` (or of its nearest parent), for messages."""
        line = _line_of(self._root, loc, key_line=True)
        return f"{self._source}:{line}" if line else self._source

    def problem(self, loc: Sequence[int | str], message: str) -> str:
        """A config mistake found after schema validation, worded like schema errors."""
        return f"{self.where(loc)}: {_dotted(loc)}: {message}"
    schedule: Schedule = Field(default_factory=Schedule)
    retention: Retention = Field(default_factory=Retention)
    tickets: Tickets = Field(default_factory=Tickets)

    @field_validator("scm_repos")
    @classmethod
    def _scm_repos_are_usable(cls, value: dict[str, str]) -> dict[str, str]:
        ScmRepos.from_mapping(value)  # a ValueError names the bad entry
        return value

    def approval_policy(self, environment: str) -> ApprovalPolicy | None:
        """The policy for an environment (names compared without case, like on cards)."""
        for name, policy in self.approvals.items():
            if name.casefold() == environment.casefold():
                return policy
        return None

    def approval_expiry(self, environment: str, *, signoff: bool = False) -> timedelta | None:
        """How long a request to decide on `environment` stays open; None: for ever.

        `approvals.<env>.expires_after`; where that is unset, a deploy waiting for approval
        expires after the deprecated `schedule.approval_expires_after_hours` (24 by
        default, as the scheduler always marked it), and a sign-off never does (as before).
        """
        policy = self.approval_policy(environment)
        if policy is not None and policy.expires_after is not None:
            span = policy.expires_after
        elif signoff:
            return None
        else:
            span = timedelta(hours=self.schedule.approval_expires_after_hours)
        return span if span > timedelta(0) else None

    def deprecations(self) -> list[str]:
        """One line per deprecated setting the file sets, with its file:line."""
        lines = []
        if "approval_expires_after_hours" in self.schedule.model_fields_set:
            lines.append(self.problem(
                ("schedule", "approval_expires_after_hours"),
                "deprecated: set approvals.<environment>.expires_after instead (until then "
                "it is the expiry of environments that set none)"))
        for i, route in enumerate(self.routes):
            if "approval_expires_after_hours" in route.schedule.model_fields_set:
                lines.append(self.problem(
                    ("routes", i, "schedule", "approval_expires_after_hours"),
                    "no longer read: set approvals.<environment>.expires_after instead"))
        return lines

    @property
    def scm(self) -> ScmRepos:
        """`scm_repos` ready to look remotes up in."""
        return ScmRepos.from_mapping(self.scm_repos)

    @field_validator("people", mode="before")
    @classmethod
    def _people_shorthand(cls, value: Any) -> Any:
        # `ana: U0123ABC` is short for `ana: {slack: U0123ABC}`.
        if isinstance(value, dict):
            return {k: {"slack": v} if isinstance(v, str) else v for k, v in value.items()}
        return value


def load_config(path: Path, *, required: bool = False) -> BotConfig:
    """Read and validate the config; a missing file means defaults unless `required`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: no such file") from None
        return BotConfig()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_config(text, source=str(path), base_dir=path.parent.resolve())


def parse_config(text: str, *, source: str = "<config>", base_dir: Path | None = None
                 ) -> BotConfig:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}:1: the config must be a mapping of sections")
    try:
        config = BotConfig.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            line = _line_of(root, error["loc"])
            where = f"{source}:{line}" if line else source
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {_dotted(error['loc'])}: {message}")
        raise ConfigError(problems[0], problems=problems) from None
    config._source, config._root = source, root
    config._base_dir = base_dir if base_dir is not None else Path.cwd()
    return config


def _dotted(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "config"


def _line_of(node: yaml.Node | None, loc: Sequence[int | str], *, key_line: bool = False
             ) -> int | None:
    """The 1-based line of the YAML node at `loc`, or of its nearest existing parent.

    A nested mapping starts on its first key's line; `key_line` gives the line of the key
    naming it instead (where a runbook's name is).
    """
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            # The key's line: a nested mapping's own first line is that of its first key.
            pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            match, mark = (pair[1], (pair[0] if key_line else pair[1]).start_mark) if pair \
                else (None, None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            match = node.value[part] if part < len(node.value) else None
            mark = match.start_mark if match is not None else None
        else:
            match = mark = None
        if match is None or mark is None:
            break
        node, line = match, mark.line + 1
    return line
