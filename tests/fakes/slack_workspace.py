"""The fake Slack's workspace: its state and the answers it gives, with no HTTP (sans-IO).

`SlackWorkspace.call(method, params, token)` answers like Slack: a JSON object with
`ok`, or raises `SlackError`. Methods live in `slack_methods`; `slack_api` adds HTTP.
"""

from __future__ import annotations

import copy
import itertools
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.slack_blocks import block_errors, with_block_ids
from tests.fakes.slack_methods import METHODS, NO_AUTH
from tests.fakes.slack_models import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    Channel,
    Ephemeral,
    Json,
    Message,
    MessageVersion,
    RateViolation,
    ResponseUrl,
)
from tests.fakes.slack_objects import user_object
from tests.fakes.slack_params import SlackError, flag, json_param

MAX_TEXT = 40_000
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
BLOCK_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+="


class SlackWorkspace:
    """One Slack workspace with one installed bot. Public methods are thread-safe.

    `channels` / `users` given: only those exist (else `channel_not_found`,
    `user_not_in_channel`); omitted: any `C…`/`G…` ID or `#name` is accepted and created.
    Names are for `chat.*` only: the `conversations.*` methods answer a name
    `channel_not_found`, as Slack does.
    """

    def __init__(
        self,
        *,
        token: str,
        team_id: str = TEAM_ID,
        team_name: str = TEAM_NAME,
        team_domain: str = TEAM_DOMAIN,
        enterprise_id: str | None = None,
        bot_user_id: str = BOT_USER_ID,
        bot_id: str = BOT_ID,
        app_id: str = APP_ID,
        bot_name: str = BOT_NAME,
        channels: Mapping[str, str] | Iterable[str] | None = None,
        users: Iterable[Json] | None = None,
        clock: Callable[[], float] | None = None,
        start_ts: float = 1_700_000_000.0,
        enforce_post_interval: float | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.token, self.team_id, self.team_name = token, team_id, team_name
        self.team_domain, self.bot_name = team_domain, bot_name
        self.enterprise_id = enterprise_id  # the Enterprise Grid organisation, if any
        self.bot_user_id, self.bot_id, self.app_id = bot_user_id, bot_id, app_id
        self.enforce_post_interval = enforce_post_interval
        self.arrived = 0.0  # monotonic arrival time of the call being answered
        self._clock = clock
        self._ts_micros = int(start_ts * 1_000_000)
        self._serials = itertools.count(1)
        self.channels: dict[str, Channel] = {}
        self.strict_channels = channels is not None
        named = (
            channels.items()
            if isinstance(channels, Mapping)
            else ((n, None) for n in channels or ())
        )
        for name, channel_id in named:
            self.add_channel(name, channel_id)
        bot = user_object(bot_user_id, bot_name, team_id=team_id, is_bot=True, bot_id=bot_id)
        self.users: dict[str, Json] = {bot_user_id: bot}
        self.strict_users = users is not None
        self.users.update((user["id"], user) for user in users or ())
        self.usergroups: dict[str, Json] = {}
        self.reset()

    def reset(self) -> None:
        """Forget messages, views and posts; keep the directory (channels, users, groups)."""
        with self.lock:
            self.channel_messages: dict[str, dict[str, Message]] = {}
            self.ephemeral_log: list[Ephemeral] = []
            self.open_views: dict[str, Json] = {}
            self.home_views: dict[str, Json] = {}  # views.publish: each user's Home tab
            self.used_triggers: set[str] = set()
            self.post_arrivals: dict[str, list[tuple[float, str]]] = {}
            self.response_urls: dict[str, ResponseUrl] = {}

    def call(
        self, method: str, params: Json, token: str | None, arrived: float | None = None
    ) -> Json:
        """Answer one Web API call as Slack would, or raise `SlackError`."""
        handler = METHODS.get(method)
        if handler is None:
            raise SlackError("unknown_method", req_method=method)
        if method not in NO_AUTH:
            if not token:
                raise SlackError("not_authed")
            if token != self.token:
                raise SlackError("invalid_auth")
        with self.lock:
            self.arrived = time.monotonic() if arrived is None else arrived
            return {"ok": True, **handler(self, params)}

    @staticmethod
    def knows(method: str) -> bool:
        return method in METHODS

    # ---- directory -------------------------------------------------------------------

    def add_channel(
        self,
        name: str,
        channel_id: str | None = None,
        *,
        private: bool = False,
        member: bool = True,
        archived: bool = False,
    ) -> Channel:
        with self.lock:
            channel_id = channel_id or f"{'G' if private else 'C'}0{self.serial():08X}"
            channel = Channel(
                channel_id,
                name.lstrip("#"),
                is_private=private,
                is_member=member,
                is_archived=archived,
            )
            self.channels[channel_id] = channel
            return channel

    def set_member(self, ref: str, member: bool) -> None:
        with self.lock:
            channel = self.find_channel(ref)
            if channel is None:
                raise KeyError(ref)
            channel.is_member = member

    def add_user(self, user_id: str, name: str, **fields: Any) -> Json:
        with self.lock:
            self.users[user_id] = user_object(user_id, name, team_id=self.team_id, **fields)
            return copy.deepcopy(self.users[user_id])

    def add_usergroup(
        self, usergroup_id: str, handle: str, users: Iterable[str], *, disabled: bool = False
    ) -> None:
        with self.lock:
            self.usergroups[usergroup_id] = {
                "id": usergroup_id,
                "handle": handle,
                "users": list(users),
                "disabled": disabled,
            }

    def find_channel(self, ref: str) -> Channel | None:
        """A known channel by ID, `#name` or name, without creating one."""
        with self.lock:
            if ref in self.channels:
                return self.channels[ref]
            name = ref.lstrip("#")
            return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    def resolve(self, ref: Any) -> Channel:
        """The channel `ref` (ID, `#name`, name or user ID) names, as `chat.postMessage` reads."""
        ref = str(ref or "")
        found = self.find_channel(ref)
        if found is not None:
            return found
        if USER_ID.match(ref) and (ref in self.users or not self.strict_users):
            dm = Channel(f"D{ref[1:]}", ref, is_im=True, user=ref)  # posting to a user opens a DM
            self.channels[dm.id] = dm
            return dm
        if self.strict_channels:
            raise SlackError("channel_not_found")
        if CHANNEL_ID.match(ref):
            channel = Channel(
                ref, ref.lower(), is_private=ref.startswith("G"), is_im=ref.startswith("D")
            )
            self.channels[ref] = channel
            return channel
        if CHANNEL_NAME.match(ref.lstrip("#")):
            return self.add_channel(ref)
        raise SlackError("channel_not_found")

    def visible(self, ref: Any) -> Channel:
        channel = self.resolve(ref)
        if channel.is_private and not channel.is_member:
            raise SlackError("channel_not_found")  # private channels are invisible to outsiders
        return channel

    def visible_by_id(self, ref: Any) -> Channel:
        """`visible` for the methods that take a channel ID only (`conversations.history`,
        `.replies`, `.info`, `.join`): Slack answers a `#name` or name `channel_not_found`."""
        if not CHANNEL_ID.match(str(ref or "")):
            raise SlackError("channel_not_found")
        return self.visible(ref)

    def postable(self, ref: Any) -> Channel:
        channel = self.visible(ref)
        if channel.is_archived:
            raise SlackError("is_archived")
        if not channel.is_member and not channel.is_im:
            raise SlackError("not_in_channel")
        return channel

    # ---- time and ids ----------------------------------------------------------------

    def serial(self) -> int:
        return next(self._serials)

    def next_ts(self) -> str:
        """A fresh message ts, strictly increasing: `1700000000.000100`, `…000200`, …"""
        if self._clock is None:
            self._ts_micros += 100
        else:
            self._ts_micros = max(int(self._clock() * 1_000_000), self._ts_micros + 1)
        return f"{self._ts_micros // 1_000_000}.{self._ts_micros % 1_000_000:06d}"

    def block_id(self) -> str:
        """A short opaque block_id like the ones Slack assigns (`"P0z+f"`)."""
        n, out = self.serial() * 7919, ""
        for _ in range(5):
            n, digit = divmod(n, len(BLOCK_ID_ALPHABET))
            out += BLOCK_ID_ALPHABET[digit]
        return out

    # ---- messages --------------------------------------------------------------------

    def content(self, params: Json) -> tuple[str | None, list[Json] | None, list[Json] | None]:
        """The text, blocks and attachments of a post, checked as Slack checks them."""
        text = params.get("text")
        text = None if text is None else str(text)
        blocks = json_param(params, "blocks", "invalid_blocks_format")
        attachments = json_param(params, "attachments", "invalid_attachments")
        if blocks is not None:
            errors = block_errors(blocks)
            if errors:
                messages = [f"[ERROR] {e}" for e in errors]
                raise SlackError(
                    "invalid_blocks", errors=errors, response_metadata={"messages": messages}
                )
            blocks = with_block_ids(blocks, self.block_id)
        if text is not None and len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        if not text and not blocks and not attachments:
            raise SlackError("no_text")
        return text, blocks, attachments

    def store(
        self, channel: Channel, text: str, blocks: list[Json], user: str, **fields: Any
    ) -> Message:
        attachments = fields.pop("attachments", None) or []
        message = Message(channel.id, self.next_ts(), user, text, blocks, attachments, **fields)
        message.history.append(MessageVersion(text, blocks, attachments, time.time()))
        self.channel_messages.setdefault(channel.id, {})[message.ts] = message
        return message

    def post(
        self,
        channel: Channel,
        params: Json,
        text: str | None,
        blocks: list[Json] | None,
        attachments: list[Json] | None,
    ) -> Message:
        """Store a message from the bot, with `thread_ts`, `metadata`, `reply_broadcast`."""
        return self.store(
            channel,
            text or "",
            blocks or [],
            self.bot_user_id,
            attachments=attachments,
            thread_ts=str(params["thread_ts"]) if params.get("thread_ts") else None,
            bot_id=self.bot_id,
            app_id=self.app_id,
            team=self.team_id,
            metadata=json_param(params, "metadata", "invalid_metadata_format"),
            reply_broadcast=flag(params.get("reply_broadcast")),
        )

    def message_at(self, channel: Channel, ts: Any) -> Message:
        message = self.channel_messages.get(channel.id, {}).get(str(ts or ""))
        if message is None or message.deleted:
            raise SlackError("message_not_found")
        return message

    def edit(
        self,
        message: Message,
        text: str | None,
        blocks: list[Json] | None,
        attachments: list[Json] | None,
    ) -> None:
        """Apply an update; an omitted field keeps its value (`blocks=[]` clears blocks)."""
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = blocks
        if attachments is not None:
            message.attachments = attachments
        version = MessageVersion(message.text, message.blocks, message.attachments, time.time())
        message.history.append(version)
        message.edited_ts = self.next_ts()

    def sorted_messages(self, channel_id: str) -> list[Message]:
        return sorted(self.channel_messages.get(channel_id, {}).values(), key=lambda m: float(m.ts))

    def api_message(self, message: Message) -> Json:
        """`message` as Slack returns it in `chat.*` answers and `conversations.history`."""
        out: Json = {"type": "message", "user": message.user, "ts": message.ts}
        out["text"] = message.text
        if message.bot_id:
            out.update(bot_id=message.bot_id, app_id=message.app_id)
        out["team"] = message.team or self.team_id
        if message.blocks:
            out["blocks"] = message.blocks
        if message.attachments:
            out["attachments"] = message.attachments
        if message.metadata is not None:
            out["metadata"] = message.metadata
        if message.updates:
            out["edited"] = {"user": message.user, "ts": message.edited_ts}
        siblings = self.channel_messages.get(message.channel, {})
        if message.is_reply:
            parent = siblings.get(message.thread_ts or "")
            out.update(thread_ts=message.thread_ts, parent_user_id=parent.user if parent else None)
            return out
        replies = [m for m in siblings.values() if m.is_reply and m.thread_ts == message.ts]
        replies = [m for m in replies if not m.deleted]
        if replies:
            users = sorted({m.user for m in replies})
            out.update(
                thread_ts=message.ts,
                reply_count=len(replies),
                reply_users=users,
                reply_users_count=len(users),
                latest_reply=replies[-1].ts,
            )
        return out

    # ---- response_url ----------------------------------------------------------------

    def issue_response_url(
        self, url: str, channel: str, user: str, message_ts: str | None, thread_ts: str | None
    ) -> None:
        target = ResponseUrl(url, channel, user, message_ts, thread_ts)
        with self.lock:
            self.response_urls[urlsplit(url).path] = target

    def is_response_url(self, path: str) -> bool:
        with self.lock:
            return path in self.response_urls

    def post_to_response_url(self, path: str, body: Json) -> tuple[int, str]:
        """What Slack does with a post to a `response_url`: (HTTP status, plain-text body)."""
        with self.lock:
            target = self.response_urls.get(path)
            if target is None:
                return 404, "no_service"
            if len(target.posts) >= 5:  # Slack honours a response_url five times
                return 404, "used_url"
            target.posts.append(copy.deepcopy(body))
            try:
                self._respond(target, body)
            except SlackError as exc:
                return (404 if exc.error == "message_not_found" else 400), exc.error
            return 200, "ok"

    def _respond(self, target: ResponseUrl, body: Json) -> None:
        channel = self.resolve(target.channel)
        if flag(body.get("delete_original")):
            self.message_at(channel, target.message_ts).deleted = True
            return
        text, blocks, attachments = self.content(body)
        if flag(body.get("replace_original")):
            self.edit(self.message_at(channel, target.message_ts), text, blocks, attachments)
        elif body.get("response_type") == "in_channel":
            thread_ts = body.get("thread_ts") or target.thread_ts
            self.post(channel, {"thread_ts": thread_ts}, text, blocks, attachments)
        else:
            ephemeral = Ephemeral(
                channel.id,
                target.user,
                self.next_ts(),
                text or "",
                blocks or [],
                target.thread_ts,
                "response_url",
            )
            self.ephemeral_log.append(ephemeral)

    # ---- snapshots for assertions ----------------------------------------------------

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str,
        blocks: list[Json] | None = None,
        thread_ts: str | None = None,
    ) -> Message:
        """Seed a message someone else wrote (the bot may read it, not edit it)."""
        with self.lock:
            target = self.resolve(channel)
            message = self.store(target, text, blocks or [], user, thread_ts=thread_ts)
            return copy.deepcopy(message)

    def messages(
        self, channel: str, *, include_replies: bool = False, include_deleted: bool = False
    ) -> list[Message]:
        with self.lock:
            found = self.find_channel(channel)
            every = self.sorted_messages(found.id) if found else []
            return copy.deepcopy(
                [
                    m
                    for m in every
                    if (include_replies or not m.is_reply) and (include_deleted or not m.deleted)
                ]
            )

    def message(self, channel: str, ts: str) -> Message:
        with self.lock:
            found = self.find_channel(channel)
            message = self.channel_messages.get(found.id, {}).get(ts) if found else None
            if message is None:
                raise KeyError(f"no message {ts} in {channel}")
            return copy.deepcopy(message)

    def message_json(self, channel: str, ts: str) -> Json:
        with self.lock:
            found = self.find_channel(channel)
            message = self.channel_messages.get(found.id, {}).get(ts) if found else None
            if message is None:
                raise KeyError(f"no message {ts} in {channel}")
            return copy.deepcopy(self.api_message(message))

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[Ephemeral]:
        with self.lock:
            found = self.find_channel(channel) if channel else None
            wanted = None if channel is None else (found.id if found else "")
            return [
                e
                for e in self.ephemeral_log
                if (wanted is None or e.channel == wanted) and (user is None or e.user == user)
            ]

    def views(self) -> list[Json]:
        with self.lock:
            return copy.deepcopy(list(self.open_views.values()))

    def response_url_posts(self, url: str) -> list[Json]:
        with self.lock:
            target = self.response_urls.get(urlsplit(url).path)
            return copy.deepcopy(target.posts) if target else []

    def rate_violations(self, min_interval: float) -> list[RateViolation]:
        with self.lock:
            out = []
            for channel_id, arrivals in self.post_arrivals.items():
                for (t0, ts0), (t1, ts1) in itertools.pairwise(arrivals):
                    if t1 - t0 < min_interval:
                        out.append(RateViolation(channel_id, ts0, ts1, round(t1 - t0, 6)))
            return out
