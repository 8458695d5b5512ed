"""One exception tree: every error we expect carries a one-line message and its HTTP status."""

from __future__ import annotations


class DevexbotError(Exception):
    """An error we expected; its message is one line meant for the person who caused it."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SettingsError(DevexbotError):
    """An environment variable has a value we cannot use (`problems`: every one found)."""

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class ConfigError(DevexbotError):
    """The YAML config file is unreadable or does not match the schema. `problems`: every
    mistake found; `valid_part`: the config without the sections that have mistakes, when
    that much is valid (a `BotConfig`, for a check to look further)."""

    def __init__(self, message: str, *, problems: list[str] | None = None,
                 valid_part: object = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]
        self.valid_part = valid_part


class DatabaseError(DevexbotError):
    """The database cannot be reached or its schema is not the one this version needs."""


class RequestError(DevexbotError):
    """An inbound request is refused; `status_code` says how (4xx, or 503 for no secret)."""

    def __init__(self, status_code: int, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.headers = headers


def one_line(exc: BaseException) -> str:
    """An exception as one line: its name and the first line of what it says."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def in_words(seconds: float) -> str:
    """A wait as a person says it: `4 s`, `5 min`."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
