"""The Web API methods the fake Slack answers, each `(workspace, params) -> answer fields`.

Shapes and error codes follow Slack's method reference (docs.slack.dev/reference/methods).
Each raises `SlackError` for `{"ok": false}`; the caller holds the workspace lock.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.fakes.slack_blocks import view_errors, with_block_ids
from tests.fakes.slack_models import Channel, Ephemeral, Json
from tests.fakes.slack_objects import channel_object, view_object
from tests.fakes.slack_params import SlackError, flag, invalid_arguments, json_param

if TYPE_CHECKING:
    from tests.fakes.slack_workspace import SlackWorkspace

Method = Callable[["SlackWorkspace", Json], Json]


# ---- chat ----------------------------------------------------------------------------


def chat_post_message(ws: SlackWorkspace, params: Json) -> Json:
    channel = ws.postable(params.get("channel"))
    text, blocks, attachments = ws.content(params)
    arrivals = ws.post_arrivals.setdefault(channel.id, [])
    interval = ws.enforce_post_interval
    if interval is not None and arrivals and ws.arrived - arrivals[-1][0] < interval:
        raise SlackError("ratelimited", status=429, headers={"Retry-After": "1"})
    message = ws.post(channel, params, text, blocks, attachments)
    arrivals.append((ws.arrived, message.ts))
    return {"channel": channel.id, "ts": message.ts, "message": ws.api_message(message)}


def chat_update(ws: SlackWorkspace, params: Json) -> Json:
    channel = ws.visible(params.get("channel"))
    message = ws.message_at(channel, params.get("ts"))
    if message.user != ws.bot_user_id:
        raise SlackError("cant_update_message")
    text, blocks, attachments = ws.content(params)
    ws.edit(message, text, blocks, attachments)
    return {
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": ws.api_message(message),
    }


def chat_delete(ws: SlackWorkspace, params: Json) -> Json:
    channel = ws.visible(params.get("channel"))
    message = ws.message_at(channel, params.get("ts"))
    if message.user != ws.bot_user_id:
        raise SlackError("cant_delete_message")
    message.deleted = True
    return {"channel": channel.id, "ts": message.ts}


def chat_post_ephemeral(ws: SlackWorkspace, params: Json) -> Json:
    channel = ws.postable(params.get("channel"))
    user = str(params.get("user") or "")
    if not user:
        raise invalid_arguments("missing required field: user")
    if ws.strict_users and user not in ws.users:
        raise SlackError("user_not_in_channel")
    text, blocks, _ = ws.content(params)
    ts = ws.next_ts()
    thread_ts = str(params["thread_ts"]) if params.get("thread_ts") else None
    ws.ephemeral_log.append(
        Ephemeral(channel.id, user, ts, text or "", blocks or [], thread_ts, "chat.postEphemeral")
    )
    return {"message_ts": ts}


def chat_get_permalink(ws: SlackWorkspace, params: Json) -> Json:
    channel = ws.visible(params.get("channel"))
    message = ws.message_at(channel, params.get("message_ts"))
    archive = f"https://{ws.team_domain}.slack.com/archives/{channel.id}"
    link = f"{archive}/p{message.ts.replace('.', '')}"
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}


# ---- conversations -------------------------------------------------------------------


def _channel_json(ws: SlackWorkspace, channel: Channel) -> Json:
    return channel_object(channel, team_id=ws.team_id, creator=ws.bot_user_id)


def _readable(ws: SlackWorkspace, ref: object) -> Channel:
    channel = ws.visible_by_id(ref)
    if not channel.is_member and not channel.is_im:
        raise SlackError("not_in_channel")
    return channel


def conversations_info(ws: SlackWorkspace, params: Json) -> Json:
    return {"channel": _channel_json(ws, ws.visible_by_id(params.get("channel")))}


def conversations_join(ws: SlackWorkspace, params: Json) -> Json:
    channel = ws.visible_by_id(params.get("channel"))
    if channel.is_im or channel.is_private:
        raise SlackError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise SlackError("is_archived")
    warning: Json = {}
    if channel.is_member:
        warning = {
            "warning": "already_in_channel",
            "response_metadata": {"warnings": ["already_in_channel"]},
        }
    channel.is_member = True
    return {"channel": _channel_json(ws, channel), **warning}


LIST_TYPES = frozenset({"public_channel", "private_channel", "mpim", "im"})


def _list_cursor(channel_id: str) -> str:
    """An opaque cursor like Slack's (`dGVhbTpDMDYxRkE1UEI=` is base64 of `team:C061FA5PB`)."""
    return base64.b64encode(f"team:{channel_id}".encode()).decode()


def _listed_type(channel: Channel) -> str:
    if channel.is_im:
        return "im"
    return "private_channel" if channel.is_private else "public_channel"


def conversations_list(ws: SlackWorkspace, params: Json) -> Json:
    """The conversations the bot can see, `types` (default public_channel) at a time,
    paged by `limit` (default 100) and `response_metadata.next_cursor`."""
    types = {t.strip() for t in str(params.get("types") or "public_channel").split(",")}
    if not types <= LIST_TYPES:
        raise SlackError("invalid_types")
    raw_limit = params.get("limit")
    try:
        limit = 100 if raw_limit in (None, "") else int(raw_limit)
    except ValueError:
        raise SlackError("invalid_limit") from None
    if not 1 <= limit <= 1000:
        raise SlackError("invalid_limit")
    exclude_archived = flag(params.get("exclude_archived"))
    found = [
        c
        for c in ws.channels.values()
        if _listed_type(c) in types
        and (c.is_member or not c.is_private)  # others' private channels stay invisible
        and not (exclude_archived and c.is_archived)
    ]
    start = 0
    if params.get("cursor"):
        cursors = [_list_cursor(c.id) for c in found]
        if params["cursor"] not in cursors:
            raise SlackError("invalid_cursor")
        start = cursors.index(params["cursor"])
    page, rest = found[start : start + limit], found[start + limit :]
    return {
        "channels": [_channel_json(ws, c) for c in page],
        "response_metadata": {"next_cursor": _list_cursor(rest[0].id) if rest else ""},
    }


def _micros(ts: str) -> int:
    """A ts as Slack writes it in cursors: its digits without the dot."""
    return int(ts.replace(".", ""))


def _history_cursor(ts: str) -> str:
    """Slack's cursor into a channel's history: base64 of `next_ts:<ts without its dot>`,
    the newest message of the next page (`bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz` in its docs)."""
    return base64.b64encode(f"next_ts:{_micros(ts)}".encode()).decode()


def _history_from(cursor: str) -> int:
    try:
        kind, _, micros = base64.b64decode(cursor, validate=True).decode().partition(":")
        if kind == "next_ts":
            return int(micros)
    except ValueError:
        pass
    raise SlackError("invalid_cursor")


def conversations_history(ws: SlackWorkspace, params: Json) -> Json:
    """Top-level messages (and broadcast replies) after `oldest` and before `latest`
    (`inclusive`: at them too), newest first, `limit` (default 100, at most 999) at a
    time; while `has_more`, `response_metadata.next_cursor` leads on to older ones. The
    cursor names a message, not an offset, so news arriving between pages moves nothing."""
    channel = _readable(ws, params.get("channel"))
    oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or 9e12)
    inclusive = flag(params.get("inclusive"))

    def in_range(ts: float) -> bool:
        return oldest <= ts <= latest if inclusive else oldest < ts < latest

    found = [
        m
        for m in reversed(ws.sorted_messages(channel.id))
        if not m.deleted and (not m.is_reply or m.reply_broadcast) and in_range(float(m.ts))
    ]
    try:
        limit = min(int(params.get("limit") or 100), 999)
    except ValueError:
        raise SlackError("invalid_limit") from None
    if params.get("cursor"):
        start = _history_from(str(params["cursor"]))
        found = [m for m in found if _micros(m.ts) <= start]
    page, rest = found[:limit], found[limit:]
    return {
        "messages": [ws.api_message(m) for m in page],
        "has_more": bool(rest),
        "pin_count": 0,
        "response_metadata": {"next_cursor": _history_cursor(rest[0].ts) if rest else ""},
    }


def conversations_replies(ws: SlackWorkspace, params: Json) -> Json:
    """The thread: its parent, then its replies oldest first, `limit` (default 1000) at a
    time; while `has_more`, `response_metadata.next_cursor` leads on to newer ones."""
    channel = _readable(ws, params.get("channel"))
    parent = ws.channel_messages.get(channel.id, {}).get(str(params.get("ts") or ""))
    if parent is None or parent.deleted:
        raise SlackError("thread_not_found")
    root = parent.thread_ts if parent.is_reply else parent.ts
    thread = [
        m
        for m in ws.sorted_messages(channel.id)
        if not m.deleted and (m.ts == root or m.thread_ts == root)
    ]
    if cursor := params.get("cursor"):
        start = _history_from(str(cursor))
        thread = [m for m in thread if _micros(m.ts) >= start]
    limit = max(1, min(int(params.get("limit") or 1000), 1000))
    page, rest = thread[:limit], thread[limit:]
    return {"messages": [ws.api_message(m) for m in page], "has_more": bool(rest),
            "response_metadata": {"next_cursor": _history_cursor(rest[0].ts) if rest else ""}}


# ---- users and groups ----------------------------------------------------------------


def users_info(ws: SlackWorkspace, params: Json) -> Json:
    user = ws.users.get(str(params.get("user") or ""))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user}


def users_lookup_by_email(ws: SlackWorkspace, params: Json) -> Json:
    """Case-insensitive; a deactivated user is `users_not_found`, as Slack documents."""
    email = str(params.get("email") or "").lower()
    for user in ws.users.values():
        own = str(user["profile"].get("email", "")).lower()
        if email and own == email and not user["deleted"]:
            return {"user": user}
    raise SlackError("users_not_found")


def usergroups_list(ws: SlackWorkspace, params: Json) -> Json:
    include_disabled = flag(params.get("include_disabled"))
    return {"usergroups": [
        {"id": g["id"], "handle": g["handle"], "name": g["handle"],
         "date_delete": 1 if g["disabled"] else 0}
        for g in ws.usergroups.values() if include_disabled or not g["disabled"]
    ]}


def usergroups_users_list(ws: SlackWorkspace, params: Json) -> Json:
    group = ws.usergroups.get(str(params.get("usergroup") or ""))
    if group is None or (group["disabled"] and not flag(params.get("include_disabled"))):
        raise SlackError("no_such_subteam")
    return {"users": list(group["users"])}


# ---- views ---------------------------------------------------------------------------


def _checked_view(ws: SlackWorkspace, params: Json) -> Json:
    view = json_param(params, "view", "invalid_arguments")
    errors = view_errors(view)
    if errors:
        raise invalid_arguments(*errors)
    return {**view, "blocks": with_block_ids(view["blocks"], ws.block_id)}


def _stored_view(ws: SlackWorkspace, view: Json, view_id: str, root_view_id: str) -> Json:
    ws.open_views[view_id] = view_object(
        view,
        view_id=view_id,
        view_hash=f"{ws.next_ts()}.{ws.serial():08x}",
        team_id=ws.team_id,
        app_id=ws.app_id,
        bot_id=ws.bot_id,
        root_view_id=root_view_id,
    )
    return {"view": ws.open_views[view_id]}


def views_open(ws: SlackWorkspace, params: Json) -> Json:
    """Each `trigger_id` opens one modal; a second use is `exchanged_trigger_id`."""
    trigger_id = str(params.get("trigger_id") or "")
    if not trigger_id:
        raise invalid_arguments("missing required field: trigger_id")
    if trigger_id in ws.used_triggers:
        raise SlackError("exchanged_trigger_id")
    view = _checked_view(ws, params)
    ws.used_triggers.add(trigger_id)
    view_id = f"V0{ws.serial():08X}"
    return _stored_view(ws, view, view_id, view_id)


def views_update(ws: SlackWorkspace, params: Json) -> Json:
    """By `view_id` or `external_id`; a stale `hash` is `hash_conflict`."""
    view_id, external_id = params.get("view_id"), params.get("external_id")
    if not view_id and not external_id:
        raise invalid_arguments("missing required field: view_id or external_id")
    by_external = (v for v in ws.open_views.values() if v["external_id"] == external_id)
    current = ws.open_views.get(str(view_id)) if view_id else next(by_external, None)
    if current is None:
        raise SlackError("not_found")
    if params.get("hash") and params["hash"] != current["hash"]:
        raise SlackError("hash_conflict")
    return _stored_view(ws, _checked_view(ws, params), current["id"], current["root_view_id"])


def views_publish(ws: SlackWorkspace, params: Json) -> Json:
    """A user's Home tab: `type: home`, up to 100 blocks, checked as messages' blocks are;
    a stale `hash` is `hash_conflict`. The view replaces what that user's tab showed."""
    user_id = str(params.get("user_id") or "")
    if not user_id:
        raise invalid_arguments("missing required field: user_id")
    if ws.strict_users and user_id not in ws.users:
        raise SlackError("user_not_found")
    view = json_param(params, "view", "invalid_arguments")
    if not isinstance(view, dict) or view.get("type") != "home":
        raise invalid_arguments("must be a valid enum value [json-pointer:/view/type]")
    current = ws.home_views.get(user_id)
    if params.get("hash") and current is not None and params["hash"] != current["hash"]:
        raise SlackError("hash_conflict")
    checked = _checked_view(ws, params)
    view_id = current["id"] if current is not None else f"V0{ws.serial():08X}"
    ws.home_views[user_id] = view_object(
        checked, view_id=view_id, view_hash=f"{ws.next_ts()}.{ws.serial():08x}",
        team_id=ws.team_id, app_id=ws.app_id, bot_id=ws.bot_id)
    return {"view": ws.home_views[user_id]}


# ---- auth ----------------------------------------------------------------------------


def auth_test(ws: SlackWorkspace, params: Json) -> Json:
    found: Json = {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": ws.team_name,
        "user": ws.bot_name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }
    if ws.enterprise_id is not None:  # a workspace of an Enterprise Grid organisation
        found["enterprise_id"] = ws.enterprise_id
    return found


def api_test(ws: SlackWorkspace, params: Json) -> Json:
    return {"args": dict(params)} if params else {}


METHODS: dict[str, Method] = {
    "api.test": api_test,
    "auth.test": auth_test,
    "chat.delete": chat_delete,
    "chat.getPermalink": chat_get_permalink,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "conversations.history": conversations_history,
    "conversations.info": conversations_info,
    "conversations.join": conversations_join,
    "conversations.list": conversations_list,
    "conversations.replies": conversations_replies,
    "usergroups.list": usergroups_list,
    "usergroups.users.list": usergroups_users_list,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
    "views.open": views_open,
    "views.publish": views_publish,
    "views.update": views_update,
}
NO_AUTH = frozenset({"api.test"})
