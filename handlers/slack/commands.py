"""`/devex <subcommand> ...`: a small registry of subcommands, each a function of the
invocation that returns the reply. Built-in subcommands are registered at import; commands
known only from the config (runbooks) come from a `CommandSource`, and never shadow a
built-in."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from slack_bolt import Ack, Respond

from devexbot.runbooks.model import ArgumentError
from devexbot.runbooks.parse import split_words
from devexbot.services import Services


@dataclass(frozen=True)
class Invocation:
    """One slash command as Slack sent it, already split into words."""

    user_id: str
    channel_id: str
    words: list[str]
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def channel_name(self) -> str | None:
        return self.raw.get("channel_name")

    @property
    def user_name(self) -> str | None:
        return self.raw.get("user_name")


@dataclass(frozen=True)
class Reply:
    text: str
    in_channel: bool = False  # visible to the channel, not only to the caller
    blocks: list[dict[str, Any]] | None = None
    after: Callable[[], None] | None = None  # work to do once Slack has had its answer
    # Work that may take longer than Slack's 3 s (a GitHub call): `text` acknowledges,
    # and what `later` returns is sent after, through the command's response_url.
    later: Callable[[], Reply] | None = None


Handler = Callable[[Services, Invocation], Reply]

log = logging.getLogger(__name__)


def answer(ack: Ack, label: str, produce: Callable[[], Reply],
           respond: Respond | None = None) -> None:
    """Acknowledge a slash command with the reply `produce` makes, then do its follow-up
    work; an unexpected error is logged with an id the person can quote."""
    try:
        reply = produce()
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("error %s in %s", error_id, label)
        ack(text=f"Something went wrong on my side (error id `{error_id}`); "
                 "tell whoever runs the bot.")
        return
    if reply.text or reply.blocks:
        ack(text=reply.text, blocks=reply.blocks,
            response_type="in_channel" if reply.in_channel else "ephemeral")
    else:
        ack()
    if reply.after is not None:
        reply.after()
    if reply.later is not None and respond is not None:
        try:  # Slack has its answer: the rest may take its time
            result = reply.later()
        except Exception:
            error_id = uuid.uuid4().hex[:8]
            log.exception("error %s in %s", error_id, label)
            respond(text=f"Something went wrong on my side (error id `{error_id}`); "
                         "tell whoever runs the bot.", replace_original=False)
            return
        respond(text=result.text, replace_original=False,
                response_type="in_channel" if result.in_channel else "ephemeral")


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    handler: Handler


class CommandSource(Protocol):
    """Subcommands known at run time (from the config), looked up after the built-ins."""

    def handler(self, services: Services, name: str) -> Handler | None: ...

    def help_lines(self, services: Services, inv: Invocation) -> list[str]: ...

    def usage(self, services: Services, inv: Invocation, name: str) -> str | None: ...


class CommandRouter:
    """Maps the first word of `/devex ...` to a subcommand."""

    def __init__(self, command: str = "/devex") -> None:
        self.command = command
        self._subcommands: dict[str, Subcommand] = {}
        self._sources: list[CommandSource] = []

    def register(self, name: str, *, usage: str, summary: str) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            self._subcommands[name] = Subcommand(name, usage, summary, handler)
            return handler

        return decorate

    def add_source(self, source: CommandSource) -> None:
        self._sources.append(source)

    def builtin_names(self) -> frozenset[str]:
        """Names no config command may take."""
        return frozenset({"help", *self._subcommands})

    def dispatch(self, services: Services, user_id: str, channel_id: str, text: str,
                 raw: dict[str, Any] | None = None) -> Reply:
        try:
            words = split_words(text)
        except ArgumentError as exc:
            return Reply(str(exc))
        inv = Invocation(user_id, channel_id, words[1:], raw or {})
        if not words or words[0].lower() in ("help", "-h", "--help"):
            return Reply(self.help(services, inv))
        name = words[0].lower()
        sub = self._subcommands.get(name)
        if sub is not None:
            return sub.handler(services, inv)
        for source in self._sources:
            handler = source.handler(services, name)
            if handler is not None:
                return handler(services, inv)
        everything = Invocation(user_id, channel_id, [], raw or {})
        return Reply(f"I don't know `{words[0]}`.\n{self.help(services, everything)}")

    def help(self, services: Services, inv: Invocation) -> str:
        """Every built-in, and the runbooks the caller may run; or one command's usage."""
        if inv.words:
            name = inv.words[0].lower()
            if name in self._subcommands:
                sub = self._subcommands[name]
                return f"`{self.command} {sub.usage}` — {sub.summary}"
            for source in self._sources:
                if (text := source.usage(services, inv, name)) is not None:
                    return text
            everything = Invocation(inv.user_id, inv.channel_id, [], inv.raw)
            return f"I don't know `{inv.words[0]}`.\n{self.help(services, everything)}"
        lines = [f"*{self.command}* commands:"]
        lines += [f"• `{self.command} {s.usage}` — {s.summary}"
                  for s in sorted(self._subcommands.values(), key=lambda s: s.name)]
        for source in self._sources:
            lines += source.help_lines(services, inv)
        lines.append(f"`{self.command} help <command>` tells more about one.")
        return "\n".join(lines)


devex = CommandRouter()
