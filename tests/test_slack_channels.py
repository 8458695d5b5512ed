"""Channel names to IDs through `conversations.list`, against the fake Slack over HTTP."""

from __future__ import annotations

import logging

import pytest
from slack_sdk.errors import SlackApiError

from devexbot.publish.channels import RELOOK_AFTER, ChannelDirectory
from tests.fakes.slack_api import FakeSlack


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ids_pass_through_without_asking_slack(fake_slack: FakeSlack) -> None:
    channels = ChannelDirectory(fake_slack.client())
    for channel in ("C0DEPLOYS", "G0SECRET", "D0ANA", "U0ANA", "W0ANA"):
        assert channels.id_of(channel) == channel
    assert fake_slack.calls() == []


def test_names_resolve_to_ids_over_several_pages_once(fake_slack: FakeSlack) -> None:
    for k in range(2100):  # three pages of up to 999
        fake_slack.add_channel(f"team-{k}")
    private = fake_slack.add_channel("ops", private=True)
    fake_slack.add_channel("old", archived=True)
    channels = ChannelDirectory(fake_slack.client())

    assert channels.id_of("#team-2099") == fake_slack.channel_id("team-2099")
    assert channels.id_of("team-0") == fake_slack.channel_id("team-0")
    assert channels.id_of("#ops") == private
    assert channels.id_of("#old") == "#old"  # archived: nothing to post to
    lists = fake_slack.calls("conversations.list")
    assert len(lists) == 3
    assert {(c.params["types"], c.params["exclude_archived"], c.params["limit"])
            for c in lists} == {("public_channel,private_channel", "1", "999")}
    assert [bool(c.params.get("cursor")) for c in lists] == [False, True, True]


def test_an_unknown_name_is_looked_up_again_only_every_few_minutes(
    fake_slack: FakeSlack,
) -> None:
    clock = Clock()
    channels = ChannelDirectory(fake_slack.client(), clock=clock)
    for _ in range(5):
        assert channels.id_of("#later") == "#later"  # meanwhile used as given
    assert len(fake_slack.calls("conversations.list")) == 1

    later = fake_slack.add_channel("later")
    clock.now += RELOOK_AFTER - 1
    assert channels.id_of("#later") == "#later"
    clock.now += 1
    assert channels.id_of("#later") == later
    assert channels.id_of("later") == later
    assert len(fake_slack.calls("conversations.list")) == 2


def test_a_refused_listing_falls_back_to_the_name_with_one_warning(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.add_channel("deploys")
    fake_slack.fail_next("conversations.list", times=2, status=200, error="missing_scope")
    clock = Clock()
    channels = ChannelDirectory(fake_slack.client(), clock=clock)
    with caplog.at_level(logging.WARNING, logger="devexbot.publish.channels"):
        assert channels.id_of("#deploys") == "#deploys"
        assert channels.id_of("#deploys") == "#deploys"
        clock.now += RELOOK_AFTER
        assert channels.id_of("#deploys") == "#deploys"  # refused again: no second warning
    assert len(fake_slack.calls("conversations.list")) == 2
    (warning,) = caplog.records
    assert "missing_scope" in warning.getMessage()

    clock.now += RELOOK_AFTER  # the scope was granted meanwhile
    assert channels.id_of("#deploys") == fake_slack.channel_id("deploys")


@pytest.mark.parametrize("status", [429, 503])
def test_a_rate_limited_or_failing_listing_is_raised_not_guessed(
    fake_slack: FakeSlack, status: int
) -> None:
    fake_slack.add_channel("deploys")
    fake_slack.fail_next("conversations.list", status=status, retry_after=7)
    channels = ChannelDirectory(fake_slack.client())
    with pytest.raises(SlackApiError) as caught:
        channels.id_of("#deploys")
    assert caught.value.response.status_code == status
    assert channels.id_of("#deploys") == fake_slack.channel_id("deploys")  # asks again
