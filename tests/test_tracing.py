"""Traces from a GitHub delivery to the Slack call it caused, through the database.

The bot gets an OpenTelemetry tracer whose spans land in the SDK's in-memory exporter (no
global provider is set: each bot is handed its own, as `build_services(tracer=...)`).
"""

from __future__ import annotations

import json
import sys

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import select

from devexbot.store import Delivery
from devexbot.tracing import NULL_TRACER, tracer_from_environment, wanted_exporters
from devexbot.tracing.otel import OtelTracer
from devexbot.tracing.sdk import resource
from tests.bot import DEFAULT_CHANNEL, BotFactory, TestBot
from tests.conftest import GITHUB_SECRET
from tests.fakes.otlp_collector import FakeCollector
from tests.github_sender import github_headers, load_fixture
from tests.scenario import HEAD, check_run_stream

WEBHOOK = "POST /webhooks/github"
# What a Slack call's span may say: never the message's text or blocks, nor the token.
SLACK_ATTRIBUTES = {"rpc.system", "rpc.method", "slack.channel", "slack.error",
                    "http.response.status_code", "error.type"}


class Spans:
    """What one bot's tracer recorded."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = OtelTracer.of(provider)

    def all(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.all() if span.name == name]

    def one(self, name: str) -> ReadableSpan:
        found = self.named(name)
        assert len(found) == 1, f"{len(found)} spans named {name!r}: {self.names()}"
        return found[0]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        return [span for span in self.all()
                if span.parent is not None and span.parent.span_id == _id(parent)]

    def names(self) -> list[str]:
        return [span.name for span in self.all()]


def _id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


def _trace(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.trace_id


def _linked(span: ReadableSpan) -> list[int]:
    return [link.context.span_id for link in span.links]


@pytest.fixture
def spans() -> Spans:
    return Spans()


@pytest.fixture
def traced(make_bot: BotFactory, spans: Spans) -> TestBot:
    return make_bot(tracer=spans.tracer)


def test_one_delivery_is_one_trace_from_its_webhook_to_the_chat_update(
        traced: TestBot, spans: Spans) -> None:
    assert traced.deliver("push", load_fixture("push")).status_code == 202
    traced.settle()  # the card is posted: the next delivery's news is a chat.update
    before = traced.message().text
    spans.exporter.clear()

    event, build_passed = check_run_stream()[2]
    answer = traced.deliver(event, build_passed, delivery_id="build-passed-1")
    assert answer.status_code == 202
    traced.settle()

    webhook = spans.one(WEBHOOK)
    assert webhook.kind == SpanKind.SERVER
    assert webhook.attributes is not None
    assert webhook.attributes["devexbot.delivery.id"] == "build-passed-1"
    assert webhook.attributes["devexbot.delivery.result"] == "stored"
    assert webhook.attributes["http.response.status_code"] == 202
    assert all(_trace(span) == _trace(webhook) for span in spans.all()), spans.names()
    assert sorted(s.name for s in spans.children(webhook)) == [
        "fold", "parse", "publish card", "store", "verify"]

    # The flush ran later, in another thread, from what the delivery stored.
    publish = spans.one("publish card")
    update = spans.one("chat.update")
    assert update.parent is not None and update.parent.span_id == _id(publish)
    assert update.kind == SpanKind.CLIENT
    assert update.attributes is not None
    assert update.attributes["slack.channel"] == DEFAULT_CHANNEL
    assert set(update.attributes) <= SLACK_ATTRIBUTES
    assert traced.message().text != before  # the update the trace ends in, as Slack shows it


def test_the_first_post_is_in_the_trace_of_the_delivery_that_made_the_card(
        traced: TestBot, spans: Spans) -> None:
    assert traced.deliver("push", load_fixture("push")).status_code == 202
    traced.settle()

    webhook = spans.one(WEBHOOK)
    post = spans.one("chat.postMessage")
    assert _trace(post) == _trace(webhook)
    publish = spans.one("publish card")
    assert publish.parent is not None and publish.parent.span_id == _id(webhook)
    assert publish.parent.is_remote  # carried through the database, not the thread


def test_a_flush_for_several_deliveries_links_to_each(traced: TestBot, spans: Spans) -> None:
    deliveries = check_run_stream()[:3]
    for event, payload in deliveries:
        assert traced.deliver(event, payload).status_code == 202
    traced.settle()

    webhooks = spans.named(WEBHOOK)
    assert len(webhooks) == 3
    publish = spans.one("publish card")
    # In the first one's trace, linked to the ones after it: each delivery finds its flush.
    assert publish.parent is not None and publish.parent.span_id == _id(webhooks[0])
    assert _linked(publish) == [_id(w) for w in webhooks[1:]]
    assert publish.attributes is not None and publish.attributes["devexbot.deliveries"] == 3


def test_another_replica_flushing_the_card_joins_the_delivery_s_trace(
        make_bot: BotFactory, spans: Spans) -> None:
    ingesting = make_bot(tracer=spans.tracer)
    other = Spans()
    flushing = make_bot(tracer=other.tracer)  # the same database and Slack

    assert ingesting.deliver("push", load_fixture("push")).status_code == 202
    flushing.settle()

    webhook = spans.one(WEBHOOK)
    assert not spans.named("publish card")
    publish = other.one("publish card")
    assert _trace(publish) == _trace(webhook)
    assert publish.parent is not None and publish.parent.span_id == _id(webhook)
    assert _trace(other.one("chat.postMessage")) == _trace(webhook)
    assert flushing.message().text


def test_a_refused_delivery_says_why_in_its_trace(traced: TestBot, spans: Spans) -> None:
    body = b'{"zen": "Keep it logically awesome."}'
    answer = traced.client.post("/webhooks/github", content=body, headers={
        "X-GitHub-Event": "ping", "X-GitHub-Delivery": "forged-1",
        "X-Hub-Signature-256": "sha256=" + "0" * 64, "Content-Type": "application/json"})
    assert answer.status_code == 401

    verify = spans.one("verify")
    assert verify.status.status_code == StatusCode.ERROR
    assert verify.status.description == "X-Hub-Signature-256 does not match the body"
    webhook = spans.one(WEBHOOK)
    assert webhook.attributes is not None
    assert webhook.attributes["devexbot.delivery.result"] == "unauthorized"
    assert not spans.named("store")


def test_a_slack_refusal_is_on_the_call_s_span(traced: TestBot, spans: Spans) -> None:
    assert traced.slack is not None
    traced.slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
    assert traced.deliver("push", load_fixture("push")).status_code == 202
    traced.settle()

    refused = spans.named("chat.postMessage")[0]
    assert refused.attributes is not None
    assert refused.attributes["slack.error"] == "channel_not_found"
    assert refused.status.status_code == StatusCode.ERROR
    assert _trace(refused) == _trace(spans.one(WEBHOOK))


def test_a_sender_s_own_trace_goes_on_through_the_bot(traced: TestBot, spans: Spans) -> None:
    sender_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    body = json.dumps(load_fixture("push")).encode()
    headers = github_headers("push", body, secret=GITHUB_SECRET, delivery_id="traced-1")
    headers["traceparent"] = f"00-{sender_trace}-00f067aa0ba902b7-01"
    assert traced.client.post("/webhooks/github", content=body,
                              headers=headers).status_code == 202
    traced.settle()

    assert {f"{_trace(span):032x}" for span in spans.all()} == {sender_trace}


def test_untraced_deliveries_store_no_trace(bot: TestBot) -> None:
    assert bot.deliver("push", load_fixture("push")).status_code == 202
    with bot.services.db.read() as session:
        assert session.scalars(select(Delivery.traceparent)).all() == [None]
    bot.settle()
    assert bot.message(HEAD).text


# --- turned on by the standard OTEL_* variables ----------------------------------------------

@pytest.mark.parametrize(("environ", "exporters"), [
    ({}, ()),
    ({"OTEL_SERVICE_NAME": "devexbot"}, ()),  # naming the service turns nothing on
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ("otlp",)),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, ("otlp",)),
    ({"OTEL_TRACES_EXPORTER": "otlp"}, ("otlp",)),  # to the default, localhost:4318
    ({"OTEL_TRACES_EXPORTER": "console"}, ("console",)),
    ({"OTEL_TRACES_EXPORTER": "otlp, Console,otlp"}, ("otlp", "console")),
    ({"OTEL_TRACES_EXPORTER": "zipkin,otlp"}, ("otlp",)),  # warned about
    ({"OTEL_TRACES_EXPORTER": "zipkin"}, ()),
    ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, ()),
    ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, ()),
    ({"OTEL_SDK_DISABLED": "TRUE", "OTEL_TRACES_EXPORTER": "otlp"}, ()),
    ({"OTEL_SDK_DISABLED": "false", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"},
     ("otlp",)),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": " "}, ()),
])
def test_which_variables_turn_tracing_on(environ: dict[str, str],
                                         exporters: tuple[str, ...]) -> None:
    assert wanted_exporters(environ) == exporters


def test_without_otel_variables_the_bot_does_not_trace() -> None:
    assert tracer_from_environment({}) is NULL_TRACER
    assert NULL_TRACER.traceparent() is None


def test_without_the_sdk_the_bot_says_so_and_does_not_trace(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "devexbot.tracing.sdk", None)  # as if not installed
    tracer = tracer_from_environment({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"})
    assert tracer is NULL_TRACER
    assert "pip install 'devexbot[otel]'" in caplog.text


def test_an_otlp_endpoint_gets_the_bot_s_traces(make_bot: BotFactory,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeCollector() as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
        monkeypatch.setenv("OTEL_SERVICE_NAME", "devexbot-staging")
        bot = make_bot()  # the tracer the environment asks for
        assert bot.services.tracer.enabled
        assert bot.deliver("push", load_fixture("push")).status_code == 202
        bot.settle()
        bot.close()  # the bot's shutdown sends what its tracer still holds

        names = collector.span_names()
        assert {WEBHOOK, "verify", "parse", "store", "fold", "publish card",
                "chat.postMessage"} <= set(names)
        assert {r["service.name"] for r in collector.resources()} == {"devexbot-staging"}


def test_the_service_is_named_devexbot_unless_the_environment_names_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    assert resource().attributes["service.name"] == "devexbot"
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=bot-eu,team=devex")
    assert resource().attributes["service.name"] == "bot-eu"
