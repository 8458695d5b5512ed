"""The team's YAML config (`DEVEXBOT_CONFIG`): routing, people, environments, approvals,
runbooks, the scheduler; one module per section, `loader` reads the file.

Errors name the file and line: `config/devexbot.yaml:7: routes[0].channel: Field required`.
"""

from correlation.policies import MergeMethod
from devexbot.config.approvals import (
    PLACEHOLDERS,
    ApprovalPolicy,
    JenkinsPromotion,
    OnApprove,
    OnCallback,
    OnJenkins,
    placeholders_of,
)
from devexbot.config.base import WEEKDAYS, Duration, Principal, Strict, Weekday
from devexbot.config.bot import BotConfig
from devexbot.config.commands import CommandSpec, ParamSpec, RunbookSettings
from devexbot.config.loader import load_config, parse_config
from devexbot.config.people import Person
from devexbot.config.permissions import MergePolicy, Permissions, RepoMerge, RepoPermissions
from devexbot.config.routes import NudgeTimes, Route
from devexbot.config.schedule import Retention, Schedule, parse_working_hours
from devexbot.config.tickets import OnDeploy, Tickets

__all__ = [
    "PLACEHOLDERS", "WEEKDAYS", "ApprovalPolicy", "BotConfig",
    "CommandSpec", "Duration", "JenkinsPromotion", "MergeMethod", "MergePolicy", "NudgeTimes",
    "OnApprove", "OnCallback", "OnDeploy", "OnJenkins", "ParamSpec", "Permissions", "Person",
    "Principal", "RepoMerge", "RepoPermissions", "Retention", "Route", "RunbookSettings",
    "Schedule", "Strict", "Tickets", "Weekday", "load_config", "parse_config",
    "parse_working_hours", "placeholders_of",
]
