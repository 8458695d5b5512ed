"""FakeSlack behaves like Slack's Web API for the real slack_sdk client, over real HTTP."""

from __future__ import annotations

import base64
import json
import random
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient, WebhookClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import (
    ConnectionErrorRetryHandler,
    FixedValueRetryIntervalCalculator,
    RateLimitErrorRetryHandler,
)

from tests.fakes import slack_api
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlack
from tests.fakes.slack_models import BOT_USER_ID

fake_slack = slack_api.fake_slack  # the fixture (tests/conftest.py may register it for all)

CARD = [
    {"type": "header", "text": {"type": "plain_text", "text": "octo/app main 1a2b3c4"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*ci/build* running"}},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "retry",
                "text": {"type": "plain_text", "text": "Retry"},
                "value": '{"build": 7}',
            }
        ],
    },
]


def slack_error(call: Callable[[], Any]) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


def raw_post(fake: FakeSlack, method: str, body: bytes, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(fake.base_url + method, data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=2) as response:
        return json.loads(response.read())


# ---- messages ------------------------------------------------------------------------


def test_posts_updates_and_threads_like_slack(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()
    posted = client.chat_postMessage(channel="#deploys", text="build running", blocks=CARD)
    channel, ts = posted["channel"], posted["ts"]
    assert channel.startswith("C") and ts == "1700000000.000100"
    assert posted["message"]["user"] == BOT_USER_ID and posted["message"]["bot_id"]
    assert all(block["block_id"] for block in posted["message"]["blocks"])  # Slack assigns them

    reply = client.chat_postMessage(channel=channel, text="log tail", thread_ts=ts)
    assert reply["message"]["thread_ts"] == ts and float(reply["ts"]) > float(ts)
    updated = client.chat_update(channel=channel, ts=ts, text="build passed")
    assert updated["ts"] == ts and updated["text"] == "build passed"

    (card,) = fake_slack.messages("#deploys")
    assert [m.text for m in fake_slack.thread(channel, ts)] == ["build passed", "log tail"]
    final = fake_slack.final_message(channel, ts)
    assert final.text == "build passed" and final.updates == 1
    assert final.blocks == posted["message"]["blocks"]  # omitted blocks are kept
    assert [v.text for v in final.history] == ["build running", "build passed"]
    assert card == final

    calls = fake_slack.calls("chat.postMessage")
    assert [c.status for c in calls] == [200, 200]
    assert calls[0].content_type.startswith("application/json")  # WebClient sends JSON here
    assert calls[0].params["blocks"][0]["type"] == "header"
    assert fake_slack.calls("chat.update")[0].params["ts"] == ts


def test_reads_form_bodies_and_tokens_as_slack_does(fake_slack: FakeSlack) -> None:
    form = urllib.parse.urlencode(
        {"token": DEFAULT_TOKEN, "channel": "C0FORM", "blocks": json.dumps(CARD[:2])}
    ).encode()
    answer = raw_post(
        fake_slack, "chat.postMessage", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer["ok"] and answer["message"]["blocks"][0]["type"] == "header"

    # With a JSON body Slack only reads the token from the Authorization header.
    body = json.dumps({"token": DEFAULT_TOKEN, "channel": "C0FORM", "text": "x"}).encode()
    answer = raw_post(fake_slack, "chat.postMessage", body, {"Content-Type": "application/json"})
    assert answer == {"ok": False, "error": "not_authed"}

    broken = raw_post(fake_slack, "auth.test", b"{not json", {"Content-Type": "application/json"})
    assert broken == {"ok": False, "error": "invalid_json"}

    # GET with a query string, as AsyncWebClient sends `http_verb="GET"` methods.
    query = fake_slack.base_url + f"auth.test?token={DEFAULT_TOKEN}"
    with urllib.request.urlopen(query, timeout=2) as response:
        assert json.loads(response.read())["user_id"] == BOT_USER_ID


def test_a_bad_or_missing_token_is_refused(fake_slack: FakeSlack) -> None:
    wrong = WebClient(token="xoxb-not-the-one", base_url=fake_slack.base_url)
    assert slack_error(lambda: wrong.chat_postMessage(channel="#a", text="x")).response.data == {
        "ok": False,
        "error": "invalid_auth",
    }
    anonymous = WebClient(base_url=fake_slack.base_url)
    assert slack_error(anonymous.auth_test).response["error"] == "not_authed"
    assert fake_slack.messages("#a") == []


def test_unknown_method(fake_slack: FakeSlack) -> None:
    error = slack_error(lambda: fake_slack.client().api_call("chat.postMesage"))
    assert error.response["error"] == "unknown_method"


def test_update_delete_and_permalink_rules(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()
    ts = client.chat_postMessage(channel="C0DEPLOYS", text="card")["ts"]
    missing = slack_error(lambda: client.chat_update(channel="C0DEPLOYS", ts="1.2", text="x"))
    assert missing.response["error"] == "message_not_found"
    human = fake_slack.add_message("C0DEPLOYS", "hello bot", user="U0ANA")
    denied = slack_error(lambda: client.chat_update(channel="C0DEPLOYS", ts=human.ts, text="x"))
    assert denied.response["error"] == "cant_update_message"

    link = client.chat_getPermalink(channel="C0DEPLOYS", message_ts=ts)["permalink"]
    assert link.endswith(f"/archives/C0DEPLOYS/p{ts.replace('.', '')}")
    assert client.chat_delete(channel="C0DEPLOYS", ts=ts)["ts"] == ts
    assert [m.text for m in fake_slack.messages("C0DEPLOYS")] == ["hello bot"]
    gone = slack_error(lambda: client.chat_update(channel="C0DEPLOYS", ts=ts, text="x"))
    assert gone.response["error"] == "message_not_found"


@pytest.mark.parametrize(
    ("content", "error", "reason"),
    [
        ({"blocks": [{"type": "divider"}] * 51}, "invalid_blocks", "no more than 50 items"),
        (
            {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]},
            "invalid_blocks",
            "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            {"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]},
            "invalid_blocks",
            "must be less than 151 characters",
        ),
        (
            {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": ""}}]},
            "invalid_blocks",
            "must be more than 0 characters",
        ),
        ({"text": "x" * 40_001}, "msg_too_long", None),
        pytest.param(
            {"text": ""}, "no_text", None, marks=pytest.mark.filterwarnings("ignore::UserWarning")
        ),
    ],
)
def test_content_slack_refuses(
    fake_slack: FakeSlack, content: dict[str, Any], error: str, reason: str | None
) -> None:
    post = fake_slack.client().chat_postMessage
    refused = slack_error(lambda: post(channel="#c", **{"text": "fallback", **content}))
    assert refused.response.status_code == 200 and refused.response["error"] == error
    if reason:
        assert any(reason in e for e in refused.response["errors"])
        assert refused.response["response_metadata"]["messages"][0].startswith("[ERROR] ")
    assert fake_slack.messages("#c") == []
    post(channel="#c", text="x" * 40_000, blocks=[{"type": "divider"}] * 50)  # limits are fine


# ---- channels, users, groups ---------------------------------------------------------


def test_known_channels_only_when_configured() -> None:
    with FakeSlack(channels={"deploys": "C0DEPLOYS"}) as fake:
        client = fake.client()
        assert client.chat_postMessage(channel="#deploys", text="x")["channel"] == "C0DEPLOYS"
        error = slack_error(lambda: client.chat_postMessage(channel="#random", text="x"))
        assert error.response["error"] == "channel_not_found"


def test_membership_join_and_archive(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()
    outside = fake_slack.add_channel("releases", member=False)
    refused = slack_error(lambda: client.chat_postMessage(channel=outside, text="x"))
    assert refused.response["error"] == "not_in_channel"
    assert client.conversations_info(channel=outside)["channel"]["is_member"] is False
    joined = client.conversations_join(channel=outside)
    assert joined["channel"]["id"] == outside and "warning" not in joined.data
    assert client.conversations_join(channel=outside)["warning"] == "already_in_channel"
    client.chat_postMessage(channel=outside, text="now I can")

    archived = fake_slack.add_channel("old", archived=True)
    assert slack_error(lambda: client.chat_postMessage(channel=archived, text="x")).response[
        "error"
    ] == ("is_archived")
    private = fake_slack.add_channel("secret", private=True, member=False)
    assert slack_error(lambda: client.conversations_info(channel=private)).response["error"] == (
        "channel_not_found"
    )


def test_users_and_usergroups(fake_slack: FakeSlack) -> None:
    fake_slack.add_user("U0ANA", "ana", email="Ana@Example.com", real_name="Ana")
    fake_slack.add_user("U0GONE", "gone", email="gone@example.com", deleted=True)
    fake_slack.add_usergroup("S0OPS", "ops", ["U0ANA"])
    client = fake_slack.client()

    found = client.users_lookupByEmail(email="ana@example.com")["user"]
    assert found["id"] == "U0ANA" and found["profile"]["email"] == "Ana@Example.com"
    for email in ("nobody@example.com", "gone@example.com"):
        error = slack_error(lambda e=email: client.users_lookupByEmail(email=e))
        assert error.response["error"] == "users_not_found"
    assert client.users_info(user="U0ANA")["user"]["real_name"] == "Ana"
    assert slack_error(lambda: client.users_info(user="U0NOPE")).response["error"] == (
        "user_not_found"
    )
    assert client.usergroups_users_list(usergroup="S0OPS")["users"] == ["U0ANA"]
    assert slack_error(lambda: client.usergroups_users_list(usergroup="S0NOPE")).response[
        "error"
    ] == ("no_such_subteam")


def test_ephemeral_and_history(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()
    answer = client.chat_postEphemeral(channel="#deploys", user="U0ANA", text="only you")
    assert answer["message_ts"]
    (note,) = fake_slack.ephemerals("#deploys", user="U0ANA")
    assert note.text == "only you" and fake_slack.messages("#deploys") == []

    first = client.chat_postMessage(channel="#deploys", text="one")["ts"]
    client.chat_postMessage(channel="#deploys", text="reply", thread_ts=first)
    client.chat_postMessage(channel="#deploys", text="two")
    deploys = fake_slack.channel_id("#deploys")
    history = client.conversations_history(channel=deploys)["messages"]
    assert [m["text"] for m in history] == ["two", "one"]
    assert history[1]["reply_count"] == 1
    replies = client.conversations_replies(channel=deploys, ts=first)["messages"]
    assert [m["text"] for m in replies] == ["one", "reply"]


def test_history_pages_back_newest_first_by_cursor(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()
    deploys = fake_slack.add_channel("deploys")
    before = client.chat_postMessage(channel=deploys, text="before")["ts"]
    posted = [client.chat_postMessage(channel=deploys, text=f"m{i}")["ts"] for i in range(250)]
    first = client.conversations_history(channel=deploys, oldest=before, limit=200)
    assert [m["ts"] for m in first["messages"]] == posted[::-1][:200]
    assert first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    # As Slack's: base64 of `next_ts:` and the next page's newest ts without its dot.
    assert base64.b64decode(cursor).decode() == "next_ts:" + posted[49].replace(".", "")
    client.chat_postMessage(channel=deploys, text="news between pages")  # moves nothing
    second = client.conversations_history(channel=deploys, oldest=before, limit=200,
                                          cursor=cursor)
    assert [m["ts"] for m in second["messages"]] == posted[::-1][200:]  # not `before`
    assert second["has_more"] is False and second["response_metadata"]["next_cursor"] == ""
    assert slack_error(lambda: client.conversations_history(
        channel=deploys, cursor="offset:200")).response["error"] == "invalid_cursor"


def test_an_outage_answers_every_call_503_for_a_while() -> None:
    now = [1000.0]
    with FakeSlack(monotonic=lambda: now[0]) as fake:
        client = fake.client()
        fake.outage(60)
        for method in (lambda: client.chat_postMessage(channel="#deploys", text="hi"),
                       lambda: client.auth_test()):
            response = slack_error(method).response
            assert (response.status_code, response["error"]) == (503, "service_unavailable")
        now[0] += 60
        assert client.chat_postMessage(channel="#deploys", text="hi")["ok"]
        assert [m.text for m in fake.messages("#deploys")] == ["hi"]


def test_conversations_methods_take_channel_ids_only(fake_slack: FakeSlack) -> None:
    # chat.postMessage takes a name; Slack's conversations.* methods answer it
    # channel_not_found, which is how a lookup by a route's `#name` fails in production.
    client = fake_slack.client()
    ts = client.chat_postMessage(channel="#deploys", text="one")["ts"]
    for name in ("#deploys", "deploys"):
        for call in (
            lambda n=name: client.conversations_history(channel=n),
            lambda n=name: client.conversations_replies(channel=n, ts=ts),
            lambda n=name: client.conversations_info(channel=n),
            lambda n=name: client.conversations_join(channel=n),
        ):
            assert slack_error(call).response["error"] == "channel_not_found"
    deploys = fake_slack.channel_id("#deploys")
    assert client.conversations_info(channel=deploys)["channel"]["name"] == "deploys"


def test_conversations_list_pages_through_the_channels_the_bot_can_see(
    fake_slack: FakeSlack,
) -> None:
    public = [fake_slack.add_channel(f"team-{k}") for k in range(5)]
    mine = fake_slack.add_channel("ops-private", private=True)
    fake_slack.add_channel("not-mine", private=True, member=False)
    fake_slack.add_channel("old", archived=True)
    client = fake_slack.client()

    pages, cursor = [], None
    while True:
        page = client.conversations_list(types="public_channel,private_channel",
                                         exclude_archived=True, limit=2, cursor=cursor)
        pages.append([c["id"] for c in page["channels"]])
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == [public[:2], public[2:4], [public[4], mine]]
    (first,) = client.conversations_list(limit=1)["channels"]  # default: public only
    assert first == client.conversations_info(channel=public[0])["channel"]
    every = client.conversations_list(limit=1000)["channels"]
    assert [c["name"] for c in every] == [*(f"team-{k}" for k in range(5)), "old"]
    assert every[-1]["is_archived"] is True
    for bad, error in (({"cursor": "bm9wZQ=="}, "invalid_cursor"),
                       ({"limit": 0}, "invalid_limit"),
                       ({"types": "public_channel,dm"}, "invalid_types")):
        refused = slack_error(lambda b=bad: client.conversations_list(**b))
        assert refused.response["error"] == error


def test_views_open_and_update(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()
    modal = {
        "type": "modal",
        "callback_id": "cleanup",
        "title": {"type": "plain_text", "text": "Cleanup"},
        "submit": {"type": "plain_text", "text": "Run"},
        "blocks": [
            {
                "type": "input",
                "block_id": "env",
                "label": {"type": "plain_text", "text": "Environment"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
    }
    view = client.views_open(trigger_id="1.2.abc", view=modal)["view"]
    assert view["id"].startswith("V") and view["callback_id"] == "cleanup"
    again = slack_error(lambda: client.views_open(trigger_id="1.2.abc", view=modal))
    assert again.response["error"] == "exchanged_trigger_id"

    changed = {**modal, "title": {"type": "plain_text", "text": "Running…"}}
    updated = client.views_update(view_id=view["id"], hash=view["hash"], view=changed)["view"]
    assert updated["title"]["text"] == "Running…" and updated["hash"] != view["hash"]
    stale = slack_error(
        lambda: client.views_update(view_id=view["id"], hash=view["hash"], view=changed)
    )
    assert stale.response["error"] == "hash_conflict"
    assert slack_error(lambda: client.views_update(view_id="V0NOPE", view=changed)).response[
        "error"
    ] == ("not_found")
    long_title = {**modal, "title": {"type": "plain_text", "text": "x" * 25}}
    bad = slack_error(lambda: client.views_open(trigger_id="1.2.def", view=long_title))
    assert bad.response["error"] == "invalid_arguments"
    assert fake_slack.views() == [updated]


def test_views_publish_keeps_each_users_home_tab_by_slacks_rules(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()
    home = {"type": "home", "blocks": [{"type": "section",
                                        "text": {"type": "mrkdwn", "text": "Hello"}}]}
    view = client.views_publish(user_id="U0ANA", view=home)["view"]
    assert view["type"] == "home" and view["blocks"][0]["block_id"]
    assert fake_slack.home_view("U0ANA") == view and fake_slack.home_view("U0BEN") is None
    again = client.views_publish(user_id="U0ANA", hash=view["hash"], view=home)["view"]
    assert again["id"] == view["id"] and again["hash"] != view["hash"]
    stale = slack_error(lambda: client.views_publish(user_id="U0ANA", hash=view["hash"],
                                                     view=home))
    assert stale.response["error"] == "hash_conflict"
    for bad_view, reason in [
        ({**home, "type": "modal", "title": {"type": "plain_text", "text": "x"}},
         "must be a valid enum value [json-pointer:/view/type]"),
        ({**home, "blocks": home["blocks"] * 101},
         "no more than 100 items allowed [json-pointer:/view/blocks]"),
        ({**home, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]},
         "must be less than 3001 characters [json-pointer:/view/blocks/0/text/text]"),
    ]:
        refused = slack_error(lambda v=bad_view: client.views_publish(user_id="U0ANA", view=v))
        assert refused.response["error"] == "invalid_arguments"
        assert reason in str(refused.response.data), refused.response.data
    assert slack_error(lambda: client.views_publish(user_id="", view=home)).response[
        "error"] == "invalid_arguments"
    assert fake_slack.home_view("U0ANA") == again  # nothing refused replaced it


# ---- faults --------------------------------------------------------------------------


def test_429_surfaces_with_retry_after_and_posts_nothing(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", retry_after=7)
    error = slack_error(lambda: fake_slack.client().chat_postMessage(channel="#d", text="x"))
    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "7"
    assert error.response.data == {"ok": False, "error": "ratelimited"}
    assert fake_slack.messages("#d") == []
    (call,) = fake_slack.calls("chat.postMessage")
    assert (call.status, call.fault, call.error) == (429, "fail", "ratelimited")
    fake_slack.client().chat_postMessage(channel="#d", text="x")  # only the next one failed


def test_rate_limit_retry_handler_retries_after_retry_after(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(random, "random", lambda: 0.0)  # slack_sdk adds up to 1 s of jitter
    fake_slack.fail_next("chat.postMessage", times=2, retry_after=0)
    client = fake_slack.client(retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
    posted = client.chat_postMessage(channel="#d", text="eventually")
    assert [c.status for c in fake_slack.calls("chat.postMessage")] == [429, 429, 200]
    assert [m.ts for m in fake_slack.messages("#d")] == [posted["ts"]]


@pytest.mark.parametrize(
    ("status", "error"), [(500, "internal_error"), (503, "service_unavailable")]
)
def test_server_errors(fake_slack: FakeSlack, status: int, error: str) -> None:
    fake_slack.fail_next("chat.update", status=status)
    failed = slack_error(lambda: fake_slack.client().chat_update(channel="#d", ts="1.1", text="x"))
    assert failed.response.status_code == status and failed.response["error"] == error


def test_a_hung_answer_times_the_client_out_although_slack_posted(fake_slack: FakeSlack) -> None:
    fake_slack.hang_next("chat.postMessage", seconds=3)
    client = fake_slack.client(timeout=0.5)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        client.chat_postMessage(channel="#d", text="did it post?")
    assert time.monotonic() - started < 2
    assert [m.text for m in fake_slack.messages("#d")] == ["did it post?"]  # it did


def test_a_dropped_request_is_retried_by_slack_sdks_connection_handler(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.hang_next("chat.postMessage", seconds=0.05, effective=False)
    retry = ConnectionErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0))
    fake_slack.client(retry_handlers=[retry]).chat_postMessage(channel="#d", text="once")
    first, second = fake_slack.calls("chat.postMessage")
    assert (first.fault, first.status, second.status) == ("drop", None, 200)
    assert [m.text for m in fake_slack.messages("#d")] == ["once"]


def test_fail_rate_under_concurrency(fake_slack: FakeSlack) -> None:
    fake_slack.fail_rate(0.3, seed=7, methods=["chat.postMessage"])
    client = fake_slack.client()
    outcomes: list[str] = []
    lock = threading.Lock()

    def post(n: int) -> None:
        for i in range(5):
            try:
                client.chat_postMessage(channel=f"#load{n % 3}", text=f"{n}-{i}")
                result = "ok"
            except SlackApiError as exc:
                result = exc.response["error"]
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)

    draws = random.Random(7)
    expected_failures = sum(draws.random() < 0.3 for _ in range(40))
    assert outcomes.count("ratelimited") == expected_failures
    stored = [m for n in range(3) for m in fake_slack.messages(f"#load{n}")]
    assert len(stored) == outcomes.count("ok") == 40 - expected_failures
    assert len({m.ts for m in stored}) == len(stored)  # ts are unique across threads


def test_post_rate_violations_and_enforcement() -> None:
    with FakeSlack() as fake:
        client = fake.client()
        client.chat_postMessage(channel="#a", text="1")
        client.chat_postMessage(channel="#b", text="1")
        client.chat_postMessage(channel="#a", text="2")
        (violation,) = fake.post_rate_violations()
        assert violation.channel == fake.channel_id("#a") and violation.gap < 1
    with FakeSlack(enforce_post_interval=1.0) as strict:
        client = strict.client()
        client.chat_postMessage(channel="#a", text="1")
        refused = slack_error(lambda: client.chat_postMessage(channel="#a", text="2"))
        assert refused.response.status_code == 429 and refused.response.headers["Retry-After"]
        assert strict.post_rate_violations() == []


# ---- response_url, waiting, reset ----------------------------------------------------


def test_response_url_replaces_posts_or_whispers(fake_slack: FakeSlack) -> None:
    ts = fake_slack.client().chat_postMessage(channel="#d", text="card", blocks=CARD)["ts"]
    url = fake_slack.new_response_url("#d", user="U0ANA", message_ts=ts, kind="actions")
    webhook = WebhookClient(url)
    assert webhook.send(text="only ana sees this").body == "ok"
    assert webhook.send(text="retrying", replace_original=True).status_code == 200
    assert webhook.send(text="for all", response_type="in_channel").status_code == 200

    assert fake_slack.ephemerals(user="U0ANA")[0].text == "only ana sees this"
    assert fake_slack.final_message("#d", ts).text == "retrying"
    assert [m.text for m in fake_slack.messages("#d")] == ["retrying", "for all"]
    assert len(fake_slack.response_url_posts(url)) == 3
    assert [webhook.send(text=str(n)).status_code for n in range(3)] == [200, 200, 404]  # 5 uses


def test_posting_to_a_user_id_opens_a_dm(fake_slack: FakeSlack) -> None:
    posted = fake_slack.client().chat_postMessage(channel="U0ANA", text="your deploy is live")
    assert posted["channel"].startswith("D")
    assert [m.text for m in fake_slack.messages(posted["channel"])] == ["your deploy is live"]


def test_wait_for_calls_from_a_background_sender(fake_slack: FakeSlack) -> None:
    client = fake_slack.client()
    timer = threading.Timer(0.05, lambda: client.chat_postMessage(channel="#d", text="later"))
    timer.start()
    (call,) = fake_slack.wait_for_calls("chat.postMessage", timeout=2)
    assert call.ok and call.params["text"] == "later"
    with pytest.raises(AssertionError, match=r"chat\.update"):
        fake_slack.wait_for_calls("chat.update", timeout=0.05)
    timer.join()


def test_reset_forgets_traffic_not_the_directory(fake_slack: FakeSlack) -> None:
    fake_slack.add_user("U0ANA", "ana", email="ana@example.com")
    client = fake_slack.client()
    client.chat_postMessage(channel="#d", text="x")
    fake_slack.fail_next("auth.test")
    fake_slack.reset()
    assert fake_slack.messages("#d") == [] and fake_slack.calls() == []
    assert client.auth_test()["ok"]
    assert client.users_lookupByEmail(email="ana@example.com")["user"]["id"] == "U0ANA"
