"""Chat posts that must happen once, through the real clients over HTTP on 127.0.0.1, when the
answer is lost: Slack's chat.postMessage (slack_sdk WebClient), a Slack incoming webhook
(slack_sdk WebhookClient) and Apprise (its json:// service, pointed at a plain endpoint).

Never repeated blindly; `uncertain` when the message may have been posted; found again at
once by `SlackNotifier.find` (the webhook and Apprise cannot read a channel back).

Faults (tests/http_faults.py): (a) posted, then a 5xx; (b) posted, then the connection closed,
the body cut short (with and without a Content-Length), or no answer before the timeout;
(c) a 429 with Retry-After; (d) refused before anything was posted.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from chat_samples import ALERTS, message
from fake_endpoint import FakeEndpoint
from fake_slack import TOKEN, FakeSlack

from bot.adapters.apprise_chat import AppriseNotifier
from bot.adapters.slack import SlackNotifier, SlackWebhookNotifier
from bot.errors import ServiceError
from bot.records import Channel, ChatRef

KEY = "acme/shop#41:g1:chat:alerts"
LOST_AFTER = [500, 502, 503, 504, "drop", "truncate", "cut"]


def slack_client(fake: FakeSlack, **options: float) -> SlackNotifier:
    return SlackNotifier(TOKEN, base_url=fake.api_url, backoff=0.01, retries=2, timeout=5, **options)  # type: ignore[arg-type]


def failure(notifier: SlackNotifier | SlackWebhookNotifier | AppriseNotifier, channel: Channel, **changes: object) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        notifier.post(channel, message(**changes))
    return caught.value


def nothing_listens() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again: nothing listens there


# -- Slack Web API: chat.postMessage -----------------------------------------------------------------------
@pytest.mark.parametrize("answer", LOST_AFTER)
def test_web_api_post_then_a_lost_answer_is_uncertain_not_repeated_and_found(
        fake: FakeSlack, slack: SlackNotifier, answer: int | str) -> None:
    fake.fault("chat.postMessage", performed=True, answer=answer)

    error = failure(slack, ALERTS)

    assert error.uncertain and "metadata" in error.hint
    assert error.request == "chat.postMessage #outage-alerts"
    assert [c.lost for c in fake.calls("chat.postMessage")] == [f"after: {answer}"]
    [root] = fake.roots("C0ALERTS01")
    assert slack.find(ALERTS, KEY) == ChatRef("slack", "C0ALERTS01", root["ts"])  # the look-up sees it at once
    assert TOKEN not in str(error)


@pytest.mark.parametrize("answer", [500, "drop"])
def test_web_api_reply_then_a_lost_answer_is_found_in_its_thread(fake: FakeSlack, slack: SlackNotifier, answer: int | str) -> None:
    root = slack.post(ALERTS, message())
    fake.fault("chat.postMessage", performed=True, answer=answer)
    with pytest.raises(ServiceError) as caught:
        slack.post(ALERTS, message(metadata_key="k:ack", status="acknowledged"), thread=root)
    error = caught.value
    assert error.uncertain
    [reply] = fake.replies("C0ALERTS01", root.ts)
    assert slack.find(ALERTS, "k:ack", thread=root) == ChatRef("slack", "C0ALERTS01", reply["ts"])
    assert slack.find(ALERTS, "k:ack") == ChatRef("slack", "C0ALERTS01", reply["ts"])  # also without the thread


@pytest.mark.parametrize("error_code", ["internal_error", "fatal_error"])
def test_web_api_errors_that_may_have_posted_are_uncertain(fake: FakeSlack, slack: SlackNotifier, error_code: str) -> None:
    # HTTP 200, ok: false: Slack documents both as "it's possible some aspect of the operation
    # succeeded before the error was raised"
    fake.fail("chat.postMessage", error_code)
    error = failure(slack, ALERTS)
    assert error.uncertain and error.detail == error_code
    assert len(fake.calls("chat.postMessage")) == 1


@pytest.mark.slow  # waits out the client's one-second timeout
def test_web_api_no_answer_before_the_timeout_is_uncertain(fake: FakeSlack) -> None:
    fake.fault("chat.postMessage", performed=True, answer="hang", hang=1.5)
    notifier = SlackNotifier(TOKEN, base_url=fake.api_url, backoff=0.01, timeout=1)
    error = failure(notifier, ALERTS)
    assert error.uncertain and "timeout" in error.detail
    assert len(fake.roots("C0ALERTS01")) == 1 and len(fake.calls("chat.postMessage")) == 1


def test_web_api_429_is_waited_out_and_posted_once(fake: FakeSlack, slack: SlackNotifier) -> None:
    fake.fault("chat.postMessage", performed=False, answer=429, retry_after=1)
    started = time.monotonic()
    slack.post(ALERTS, message())
    assert time.monotonic() - started >= 1.0
    assert [c.status for c in fake.calls("chat.postMessage")] == [429, 200]
    assert len(fake.roots("C0ALERTS01")) == 1


def test_web_api_retry_after_longer_than_the_job_may_wait_is_not_waited(fake: FakeSlack) -> None:
    fake.fault("chat.postMessage", performed=False, answer=429, retry_after=3600)
    started = time.monotonic()
    error = failure(slack_client(fake, max_wait=5), ALERTS)
    assert time.monotonic() - started < 1.0
    assert error.detail == "ratelimited" and not error.uncertain
    assert fake.roots("C0ALERTS01") == []


@pytest.mark.parametrize("error_code", ["channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "ratelimited"])
def test_web_api_refusal_is_certain(fake: FakeSlack, slack: SlackNotifier, error_code: str) -> None:
    fake.fail("chat.postMessage", error_code, status=429 if error_code == "ratelimited" else 200, times=3, retry_after=0)
    error = failure(slack, ALERTS)
    assert not error.uncertain and error.detail == error_code
    assert fake.roots("C0ALERTS01") == []


def test_web_api_5xx_or_drop_before_posting_cannot_be_told_apart(fake: FakeSlack, slack: SlackNotifier) -> None:
    for answer in (503, "drop"):
        fake.fault("chat.postMessage", performed=False, answer=answer)
        assert failure(slack, ALERTS).uncertain
    assert fake.roots("C0ALERTS01") == [] and slack.find(ALERTS, KEY) is None
    assert len(fake.calls("chat.postMessage")) == 2


def test_web_api_nobody_listening_is_certain() -> None:
    notifier = SlackNotifier(TOKEN, base_url=f"http://127.0.0.1:{nothing_listens()}/api/", backoff=0.01, timeout=2)
    error = failure(notifier, ALERTS)
    assert not error.uncertain and error.detail.startswith("could not reach Slack: ConnectionRefusedError")


@pytest.mark.parametrize("answer", [502, "drop", "truncate"])
def test_web_api_edits_reactions_and_reads_are_repeated_after_a_lost_answer(
        fake: FakeSlack, slack: SlackNotifier, answer: int | str) -> None:
    root = slack.post(ALERTS, message())
    for api in ("chat.update", "reactions.add", "conversations.history"):
        fake.fault(api, performed=True, answer=answer)
    slack.update(root, message(status="resolved"))
    slack.react(root, "white_check_mark")  # the repeat finds it there: already_reacted is success
    assert slack.find(ALERTS, KEY) == root
    stored = fake.message("C0ALERTS01", root.ts)
    assert "edited" in stored and [r["name"] for r in stored["reactions"]] == ["white_check_mark"]
    for api in ("chat.update", "reactions.add", "conversations.history"):
        assert len(fake.calls(api)) == 2


# -- Slack incoming webhook ---------------------------------------------------------------------------------
@pytest.fixture
def hook(fake: FakeSlack) -> SlackWebhookNotifier:
    return SlackWebhookNotifier(fake.add_webhook("C0ALERTS01"), backoff=0.01, timeout=5)


@pytest.mark.parametrize("answer", [500, 502, 503, 504, "drop", "truncate"])
def test_webhook_post_then_a_lost_answer_is_uncertain_and_not_repeated(
        fake: FakeSlack, hook: SlackWebhookNotifier, answer: int | str) -> None:
    fake.fault("webhook", performed=True, answer=answer)
    error = failure(hook, ALERTS)
    assert error.uncertain and "cannot read the channel back" in error.hint
    assert [c.lost for c in fake.calls("webhook")] == [f"after: {answer}"]
    assert len(fake.roots("C0ALERTS01")) == 1
    assert "secretpart" not in str(error)


@pytest.mark.slow  # waits out the client's one-second timeout
def test_webhook_no_answer_before_the_timeout_is_uncertain(fake: FakeSlack) -> None:
    hook = SlackWebhookNotifier(fake.add_webhook("C0ALERTS01"), backoff=0.01, timeout=1)
    fake.fault("webhook", performed=True, answer="hang", hang=1.5)
    assert failure(hook, ALERTS).uncertain
    assert len(fake.roots("C0ALERTS01")) == 1 and len(fake.calls("webhook")) == 1


def test_webhook_429_is_waited_out_and_posted_once(fake: FakeSlack, hook: SlackWebhookNotifier) -> None:
    fake.fault("webhook", performed=False, answer=429, retry_after=1)
    started = time.monotonic()
    hook.post(ALERTS, message())
    assert time.monotonic() - started >= 1.0
    assert [c.status for c in fake.calls("webhook")] == [429, 200] and len(fake.roots("C0ALERTS01")) == 1


@pytest.mark.parametrize(("code", "status"), [("invalid_payload", 400), ("action_prohibited", 403),
                                              ("no_service", 404), ("channel_is_archived", 410)])
def test_webhook_refusal_is_certain(fake: FakeSlack, hook: SlackWebhookNotifier, code: str, status: int) -> None:
    fake.fail("webhook", code, status=status)
    error = failure(hook, ALERTS)
    assert not error.uncertain and error.detail == code and fake.roots("C0ALERTS01") == []


def test_webhook_nobody_listening_is_certain() -> None:
    hook = SlackWebhookNotifier(f"http://127.0.0.1:{nothing_listens()}/services/T0/B0/secretpart", backoff=0.01, timeout=2)
    error = failure(hook, ALERTS)
    assert not error.uncertain and "could not reach Slack" in error.detail and "secretpart" not in str(error)


# -- Apprise (json:// to a loopback endpoint) -----------------------------------------------------------------
SECRET = "s3cr3t-hook-token-XYZ"


@pytest.fixture
def endpoint() -> Iterator[FakeEndpoint]:
    with FakeEndpoint() as server:
        yield server


def ops(endpoint: FakeEndpoint, query: str = "") -> Channel:
    return Channel("ops", apprise=f"json://{endpoint.hostport}/hooks/${{HOOK_TOKEN}}{query}")


def apprise_client(**options: float) -> AppriseNotifier:
    return AppriseNotifier({"HOOK_TOKEN": SECRET}, rate_limit_wait=0.2, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("answer", [500, 502, 503, 504, "drop", "truncate"])
def test_apprise_post_then_a_lost_answer_is_uncertain_and_not_repeated(endpoint: FakeEndpoint, answer: int | str) -> None:
    endpoint.fault(performed=True, answer=answer)
    error = failure(apprise_client(), ops(endpoint))
    assert error.uncertain and "cannot read the channel back" in error.hint
    assert len(endpoint.received) == 1 and len(endpoint.delivered) == 1
    assert SECRET not in str(error)


@pytest.mark.slow  # waits out the client's one-second timeout
def test_apprise_no_answer_before_the_timeout_is_uncertain(endpoint: FakeEndpoint) -> None:
    endpoint.fault(performed=True, answer="hang", hang=1.5)
    assert failure(apprise_client(timeout=1), ops(endpoint)).uncertain
    assert len(endpoint.received) == 1


def test_apprise_own_retries_are_switched_off(endpoint: FakeEndpoint) -> None:
    # `?retry=3` would make Apprise send again after the 500, when the service had posted it
    endpoint.fault(performed=True, answer=500)
    assert failure(apprise_client(), ops(endpoint, "?retry=3&wait=0")).uncertain
    assert len(endpoint.received) == 1


def test_apprise_429_is_waited_out_and_posted_once(endpoint: FakeEndpoint) -> None:
    # Apprise does not show the Retry-After: the notifier's own bounded wait stands in for it
    endpoint.fault(performed=False, answer=429, retry_after=1)
    started = time.monotonic()
    apprise_client().post(ops(endpoint), message())
    assert time.monotonic() - started >= 0.2
    assert [r.status for r in endpoint.received] == [429, 200] and len(endpoint.delivered) == 1


def test_apprise_429_that_persists_is_certain(endpoint: FakeEndpoint) -> None:
    endpoint.fault(performed=False, answer=429, times=5)
    error = failure(apprise_client(), ops(endpoint))
    assert not error.uncertain and "429" in error.detail
    assert len(endpoint.received) == 3 and endpoint.delivered == []  # one try and two waits


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_apprise_refusal_is_certain(endpoint: FakeEndpoint, status: int) -> None:
    endpoint.fault(performed=False, answer=status)
    error = failure(apprise_client(), ops(endpoint))
    assert not error.uncertain and str(status) in error.detail
    assert len(endpoint.received) == 1 and endpoint.delivered == []


def test_apprise_nobody_listening_is_certain() -> None:
    channel = Channel("ops", apprise=f"json://127.0.0.1:{nothing_listens()}/hooks/${{HOOK_TOKEN}}")
    error = failure(apprise_client(), channel)
    assert not error.uncertain and SECRET not in str(error)
