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
    """An environment variable has a value we cannot use."""


class ConfigError(DevexbotError):
    """The YAML config file is unreadable or does not match the schema."""

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class DatabaseError(DevexbotError):
    """The database cannot be reached or its schema is not the one this version needs."""


class RequestError(DevexbotError):
    """An inbound request is refused; `status_code` says how (4xx, or 503 for no secret)."""

    def __init__(self, status_code: int, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.headers = headers
