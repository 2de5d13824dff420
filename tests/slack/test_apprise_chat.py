"""AppriseNotifier: real Apprise posting to a local endpoint, with secrets from the environment."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from chat_samples import message
from fake_endpoint import FakeEndpoint

from bot.adapters.apprise_chat import AppriseNotifier, expand, render, variables_in
from bot.errors import MissingCredential, ServiceError, UserError
from bot.records import Channel, ChatRef

SECRET = "s3cr3t-hook-token-XYZ"
API_KEY = "k3y-0000-abcd"


@pytest.fixture
def endpoint() -> Iterator[FakeEndpoint]:
    with FakeEndpoint() as server:
        yield server


def teams_like(endpoint: FakeEndpoint) -> Channel:
    """A channel whose Apprise URL carries two secrets: one in the path, one in a header."""
    return Channel("ops", apprise=f"json://{endpoint.hostport}/hooks/${{HOOK_TOKEN}}?+X-Api-Key=${{API_KEY}}")


ENV = {"HOOK_TOKEN": SECRET, "API_KEY": API_KEY}


def test_posts_title_and_text_with_secrets_from_the_environment(endpoint: FakeEndpoint) -> None:
    notifier = AppriseNotifier(ENV)
    ref = notifier.post(teams_like(endpoint), message())

    (got,) = endpoint.received
    assert got.path == f"/hooks/{SECRET}"
    assert got.headers["x-api-key"] == API_KEY
    assert got.body["title"] == "Checkout is down"
    text = got.body["message"]
    assert text.splitlines()[0] == "🔴 CRITICAL · Open"
    assert "Payments fail with a 502 for every customer." in text
    assert "Deadline: Tue 03 Nov 10:00 EST (15:00 UTC)" in text
    assert "Outage #42: https://github.com/acme/shop/issues/42" in text
    assert "U02TAYLOR" not in text  # Slack ids mean nothing elsewhere
    assert ref.service == "apprise" and ref.channel == "ops" and ref.ts.startswith("apprise-")


def test_posts_only(endpoint: FakeEndpoint) -> None:
    notifier = AppriseNotifier(ENV)
    assert notifier.can_thread is False
    ref = notifier.post(teams_like(endpoint), message())
    notifier.update(ref, message(status="resolved"))
    notifier.react(ref, "eyes")
    assert notifier.find(teams_like(endpoint), "acme/shop#41:g1:chat:alerts") is None
    assert len(endpoint.received) == 1


def test_a_missing_variable_is_named(endpoint: FakeEndpoint) -> None:
    with pytest.raises(MissingCredential) as caught:
        AppriseNotifier({"HOOK_TOKEN": SECRET, "API_KEY": "  "}).post(teams_like(endpoint), message())
    assert caught.value.variable == "API_KEY"
    assert "ops" in str(caught.value) and SECRET not in str(caught.value)
    assert endpoint.received == []


def test_a_refusal_is_a_service_error_without_secrets(endpoint: FakeEndpoint, caplog: pytest.LogCaptureFixture) -> None:
    endpoint.answers.append(403)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ServiceError) as caught:
        AppriseNotifier(ENV).post(teams_like(endpoint), message())
    error = caught.value
    assert error.service == "apprise" and error.request == "notify channel ops"
    assert "403" in error.detail and not error.uncertain
    assert "HOOK_TOKEN, API_KEY" in error.hint
    shown = str(error) + caplog.text
    assert SECRET not in shown and API_KEY not in shown


def test_an_unusable_url_is_a_user_error_that_does_not_print_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    channel = Channel("ops", apprise="nosuchservice://${HOOK_TOKEN}@example")
    with pytest.raises(UserError) as caught:
        AppriseNotifier(ENV).post(channel, message())
    assert "channels.ops.apprise" in str(caught.value)
    assert SECRET not in str(caught.value) + caplog.text


def test_user_text_cannot_mention_or_link_on_other_services(endpoint: FakeEndpoint) -> None:
    hostile = "@everyone @here <@123456> [click](https://evil.example) \u202eexe \ud800 \x1b[31m"
    AppriseNotifier(ENV).post(teams_like(endpoint), message(headline=hostile, body=hostile))
    got = endpoint.received[0].body
    for text in (got["title"], got["message"]):
        assert "@everyone" not in text and "@here" not in text and "<@123456>" not in text
        assert "](" not in text and "\u202e" not in text and "\ud800" not in text and "\x1b" not in text


def test_form_endpoints_work_too(endpoint: FakeEndpoint) -> None:
    AppriseNotifier({}).post(Channel("mail", apprise=f"form://{endpoint.hostport}/notify"), message())
    assert endpoint.received[0].body["title"] == "Checkout is down"


def test_expand_and_variables_in() -> None:
    url = "tgram://${BOT}/${CHAT}/?x=${BOT}&y=$HOME"
    assert variables_in(url) == ["BOT", "CHAT"]
    assert expand(url, {"BOT": "1:abc", "CHAT": "-100"}) == ("tgram://1:abc/-100/?x=1:abc&y=$HOME", ["1:abc", "-100", "1:abc"])


def test_render_without_optional_parts() -> None:
    title, body = render(message(body="", fields=(), link=None, status="", severity=""))
    assert title == "Checkout is down" and body == ""
    assert render(message(headline="", severity="major", status="active"))[0] == "🔴 MAJOR"


def test_ref_round_trips(endpoint: FakeEndpoint) -> None:
    ref = AppriseNotifier(ENV).post(teams_like(endpoint), message())
    assert ChatRef.decode(ref.encode()) == ref
