"""`/devex <subcommand> ...`: a small router of subcommands, each a function of the
invocation that returns the reply. Each group of subcommands is an object built with what
it uses (`Subscriptions`, `Where`, `RunbookCommands`); `CommandRouter(*groups)` combines
them. Commands known only from the config (runbooks) are looked up after the built-ins and
never shadow one."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, App, Respond

from devexbot.runbooks.model import ArgumentError
from devexbot.runbooks.parse import split_words

DEVEX = "/devex"

# The subcommands the code defines, for the config check (no runbook may take these names)
# without building the router; a test holds it to the router's own list.
BUILTIN_SUBCOMMANDS = frozenset(
    {"help", "history", "subscribe", "subscriptions", "unsubscribe", "where",
     "me", "metrics"})


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


Handler = Callable[[Invocation], Reply]

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
        respond(text=result.text, blocks=result.blocks, replace_original=False,
                response_type="in_channel" if result.in_channel else "ephemeral")


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    handler: Handler


class CommandGroup:
    """Some `/devex` subcommands: the fixed ones it lists, and perhaps commands known only
    at run time (the config's runbooks), looked up after every group's fixed ones."""

    def subcommands(self) -> Sequence[Subcommand]:
        return ()

    def handler(self, name: str) -> Handler | None:
        return None

    def help_lines(self, inv: Invocation) -> list[str]:
        return []

    def usage(self, inv: Invocation, name: str) -> str | None:
        return None


class CommandRouter:
    """Maps the first word of `/devex ...` to a subcommand of one of its groups."""

    def __init__(self, *groups: CommandGroup, command: str = DEVEX) -> None:
        self.command = command
        self._groups = groups
        self._subcommands: dict[str, Subcommand] = {}
        for group in groups:
            for sub in group.subcommands():
                if sub.name in self._subcommands or sub.name == "help":
                    raise ValueError(f"two `{command}` subcommands are named {sub.name!r}")
                self._subcommands[sub.name] = sub

    def builtin_names(self) -> frozenset[str]:
        """Names no config command may take."""
        return frozenset({"help", *self._subcommands})

    def dispatch(self, user_id: str, channel_id: str, text: str,
                 raw: dict[str, Any] | None = None) -> Reply:
        try:
            words = split_words(text)
        except ArgumentError as exc:
            return Reply(str(exc))
        inv = Invocation(user_id, channel_id, words[1:], raw or {})
        if not words or words[0].lower() in ("help", "-h", "--help"):
            return Reply(self.help(inv))
        name = words[0].lower()
        sub = self._subcommands.get(name)
        if sub is not None:
            return sub.handler(inv)
        for group in self._groups:
            handler = group.handler(name)
            if handler is not None:
                return handler(inv)
        everything = Invocation(user_id, channel_id, [], raw or {})
        return Reply(f"I don't know `{words[0]}`.\n{self.help(everything)}")

    def help(self, inv: Invocation) -> str:
        """Every built-in, and the runbooks the caller may run; or one command's usage."""
        if inv.words:
            name = inv.words[0].lower()
            if name in self._subcommands:
                sub = self._subcommands[name]
                return f"`{self.command} {sub.usage}` — {sub.summary}"
            for group in self._groups:
                if (text := group.usage(inv, name)) is not None:
                    return text
            everything = Invocation(inv.user_id, inv.channel_id, [], inv.raw)
            return f"I don't know `{inv.words[0]}`.\n{self.help(everything)}"
        lines = [f"*{self.command}* commands:"]
        lines += [f"• `{self.command} {s.usage}` — {s.summary}"
                  for s in sorted(self._subcommands.values(), key=lambda s: s.name)]
        for group in self._groups:
            lines += group.help_lines(inv)
        lines.append(f"`{self.command} help <command>` tells more about one.")
        return "\n".join(lines)


def register(app: App, router: CommandRouter) -> None:
    """The `/devex` slash command's listener."""

    @app.command(router.command)
    def _devex(ack: Ack, respond: Respond, command: dict[str, Any]) -> None:
        answer(ack, f"{router.command} {command.get('text')}",
               lambda: router.dispatch(command["user_id"], command["channel_id"],
                                       command.get("text") or "", command), respond)
