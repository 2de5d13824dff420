"""SlackWebhookNotifier: real slack_sdk WebhookClient against the fake's incoming webhooks."""

from __future__ import annotations

import json

import pytest
from chat_samples import ALERTS, message
from fake_slack import FIXTURES, FakeSlack

from bot.adapters.slack import SlackWebhookNotifier
from bot.errors import ServiceError
from bot.records import ChatRef

WEBHOOK_ERRORS = {k: v for k, v in json.loads((FIXTURES / "webhook_errors.json").read_text()).items() if k[0] != "_"}


@pytest.fixture
def hook_url(fake: FakeSlack) -> str:
    return fake.add_webhook("C0ALERTS01")


@pytest.fixture
def hook(hook_url: str) -> SlackWebhookNotifier:
    return SlackWebhookNotifier(hook_url, backoff=0.01)


def test_posts_the_same_blocks_without_metadata(fake: FakeSlack, hook: SlackWebhookNotifier) -> None:
    ref = hook.post(ALERTS, message())

    (call,) = fake.calls("webhook")
    assert call.headers["content-type"].startswith("application/json")
    assert call.args["blocks"][0]["text"]["text"] == "Checkout is down"
    assert call.args["text"].startswith("Checkout is down")
    assert call.args["unfurl_links"] is False
    assert "metadata" not in call.args and "link_names" not in call.args
    assert ref.service == "slack-webhook" and ref.channel == "alerts" and ref.ts.startswith("webhook-")
    assert [m["blocks"] for m in fake.roots("C0ALERTS01")] == [call.args["blocks"]]


def test_the_local_id_is_stable_for_one_key(hook: SlackWebhookNotifier) -> None:
    assert hook.post(ALERTS, message()) == hook.post(ALERTS, message(status="resolved"))


def test_threads_updates_and_reactions_are_lost(fake: FakeSlack, hook: SlackWebhookNotifier) -> None:
    assert hook.can_thread is False
    root = hook.post(ALERTS, message())
    hook.post(ALERTS, message(status="acknowledged", metadata_key="k:ack"), thread=root)  # a new message
    hook.update(root, message(status="resolved"))
    hook.react(root, "white_check_mark")
    assert hook.find(ALERTS, "acme/shop#41:g1:chat:alerts") is None

    assert len(fake.calls("webhook")) == 2
    assert len(fake.roots("C0ALERTS01")) == 2  # no thread: the reply is a second message
    assert fake.calls("chat.update") == [] and fake.calls("reactions.add") == []


@pytest.mark.parametrize(("code", "status"), sorted(WEBHOOK_ERRORS.items()))
def test_each_documented_error_is_a_service_error_without_the_url(
    fake: FakeSlack, hook: SlackWebhookNotifier, hook_url: str, code: str, status: int
) -> None:
    fake.fail("webhook", code, status=status, times=3)
    with pytest.raises(ServiceError) as caught:
        hook.post(ALERTS, message())
    error = caught.value
    assert error.service == "slack" and error.detail == code
    assert error.request == "POST SLACK_WEBHOOK_URL (for #outage-alerts)"
    assert error.hint
    assert hook_url not in str(error) and "secretpart" not in str(error)


def test_removed_webhook_says_to_make_a_new_one(fake: FakeSlack) -> None:
    gone = SlackWebhookNotifier(fake.base + "/services/T0/B0/revoked", variable="SLACK_WEBHOOK_URL_ALERTS")
    with pytest.raises(ServiceError) as caught:
        gone.post(ALERTS, message())
    assert caught.value.detail == "no_service"
    assert caught.value.request.startswith("POST SLACK_WEBHOOK_URL_ALERTS")
    assert "create a new incoming webhook" in caught.value.hint


def test_rate_limit_then_success(fake: FakeSlack, hook: SlackWebhookNotifier) -> None:
    fake.fail("webhook", "rate_limited", status=429, retry_after=0)
    hook.post(ALERTS, message())
    assert [c.status for c in fake.calls("webhook")] == [429, 200]


def test_a_server_error_is_not_repeated(fake: FakeSlack, hook: SlackWebhookNotifier) -> None:
    # Slack may have posted it before the 500; a webhook cannot look, so it says so (uncertain).
    fake.fail("webhook", "rollup_error", status=500)
    with pytest.raises(ServiceError) as caught:
        hook.post(ALERTS, message())
    assert caught.value.uncertain and caught.value.detail == "rollup_error"
    assert [c.status for c in fake.calls("webhook")] == [500]


def test_rate_limit_that_persists(fake: FakeSlack, hook_url: str) -> None:
    hook = SlackWebhookNotifier(hook_url, retries=1)
    fake.fail("webhook", "rate_limited", status=429, retry_after=0, times=2)
    with pytest.raises(ServiceError) as caught:
        hook.post(ALERTS, message())
    assert caught.value.detail == "ratelimited" and "next run retries" in caught.value.hint
    assert len(fake.calls("webhook")) == 2


def test_html_error_page_is_not_repeated(fake: FakeSlack, hook: SlackWebhookNotifier) -> None:
    fake.fail("webhook", "", status=502, body="<html>proxy says no</html>", times=3)
    with pytest.raises(ServiceError) as caught:
        hook.post(ALERTS, message())
    assert caught.value.detail == "HTTP 502" and "html" not in str(caught.value)


def test_a_url_slack_sdk_refuses_is_not_printed() -> None:
    bad = SlackWebhookNotifier("ftp://hooks.example/services/T0/B0/topsecret")
    with pytest.raises(ServiceError) as caught:
        bad.post(ALERTS, message())
    assert "topsecret" not in str(caught.value)
    assert "SLACK_WEBHOOK_URL" in caught.value.hint


def test_ref_round_trips_through_the_ledger_encoding(hook: SlackWebhookNotifier) -> None:
    ref = hook.post(ALERTS, message())
    assert ChatRef.decode(ref.encode()) == ref
