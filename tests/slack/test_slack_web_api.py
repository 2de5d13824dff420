"""SlackNotifier: real slack_sdk over HTTP against the fake Slack on 127.0.0.1."""

from __future__ import annotations

import socket
import time

import pytest
from chat_samples import ALERTS, SECURITY, USERS, message
from fake_slack import TOKEN, FakeSlack

from bot.adapters.slack import EVENT_TYPE, SlackNotifier
from bot.errors import ServiceError
from bot.records import Channel, ChatRef


# -- posting -----------------------------------------------------------------------------------
def test_alert_is_posted_with_blocks_fallback_and_metadata(fake: FakeSlack, slack: SlackNotifier) -> None:
    ref = slack.post(ALERTS, message())

    assert ref == ChatRef("slack", "C0ALERTS01", fake.roots("C0ALERTS01")[0]["ts"])
    (call,) = fake.calls("chat.postMessage")
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.headers["content-type"].startswith("application/json")
    args = call.args
    assert args["channel"] == "#outage-alerts"  # postMessage takes the name; the ref keeps the id
    assert args["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {"key": "acme/shop#41:g1:chat:alerts"}}
    assert args["link_names"] is False and args["parse"] == "none"
    assert args["unfurl_links"] is False and args["unfurl_media"] is False
    assert "thread_ts" not in args
    assert args["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "Checkout is down"}}
    assert args["text"].startswith("Checkout is down")
    stored = fake.message("C0ALERTS01", ref.ts)
    assert stored["metadata"]["event_payload"]["key"] == "acme/shop#41:g1:chat:alerts"
    assert stored["blocks"] == args["blocks"]


def test_replies_go_in_the_alert_thread_by_channel_id(fake: FakeSlack, slack: SlackNotifier) -> None:
    root = slack.post(ALERTS, message())
    reply = slack.post(ALERTS, message(status="acknowledged", metadata_key="k:ack"), thread=root)

    call = fake.calls("chat.postMessage")[-1]
    assert call.args["channel"] == "C0ALERTS01" and call.args["thread_ts"] == root.ts
    assert reply.channel == "C0ALERTS01" and reply.ts != root.ts
    assert [m["ts"] for m in fake.replies("C0ALERTS01", root.ts)] == [reply.ts]
    assert len(fake.roots("C0ALERTS01")) == 1


def test_update_edits_the_root_and_keeps_metadata(fake: FakeSlack, slack: SlackNotifier) -> None:
    root = slack.post(ALERTS, message())
    slack.update(root, message(status="resolved"))

    (call,) = fake.calls("chat.update")
    assert call.args["channel"] == "C0ALERTS01" and call.args["ts"] == root.ts
    assert call.args["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {"key": "acme/shop#41:g1:chat:alerts"}}
    assert call.args["link_names"] is False
    stored = fake.message("C0ALERTS01", root.ts)
    assert stored["blocks"][1]["elements"][0]["text"] == "✅ *CRITICAL* · Resolved"
    assert stored["metadata"]["event_payload"]["key"] == "acme/shop#41:g1:chat:alerts"
    assert "edited" in stored


def test_react_adds_once_and_already_reacted_is_success(fake: FakeSlack, slack: SlackNotifier) -> None:
    root = slack.post(ALERTS, message())
    slack.react(root, "eyes")
    slack.react(root, ":eyes:")  # already there: Slack says already_reacted, which is fine
    slack.react(root, "white_check_mark")

    calls = fake.calls("reactions.add")
    assert [(c.args["channel"], c.args["timestamp"], c.args["name"]) for c in calls] == [
        ("C0ALERTS01", root.ts, "eyes"),
        ("C0ALERTS01", root.ts, "eyes"),
        ("C0ALERTS01", root.ts, "white_check_mark"),
    ]
    assert [c.answer.get("error") for c in calls] == [None, "already_reacted", None]
    reactions = fake.message("C0ALERTS01", root.ts)["reactions"]
    assert [(r["name"], r["count"]) for r in reactions] == [("eyes", 1), ("white_check_mark", 1)]


def test_react_refuses_what_is_not_an_emoji_name(slack: SlackNotifier) -> None:
    with pytest.raises(ValueError, match="emoji name"):
        slack.react(ChatRef("slack", "C0ALERTS01", "1.2"), "eyes><!channel")


def test_refs_of_another_service_are_refused(slack: SlackNotifier) -> None:
    with pytest.raises(ValueError, match="not a Slack Web API message"):
        slack.update(ChatRef("slack-webhook", "alerts", "webhook-1"), message())


def test_base_url_without_trailing_slash_still_reaches_the_api(fake: FakeSlack) -> None:
    notifier = SlackNotifier(TOKEN, base_url=fake.api_url.rstrip("/"), backoff=0.01)
    notifier.post(SECURITY, message())
    assert fake.calls("chat.postMessage")[0].path == "/api/chat.postMessage"


# -- hostile text over the wire ----------------------------------------------------------------
HOSTILE = "<!channel> @everyone <@U123> <https://evil.example|click> Fish & chips \u202etxt.exe " + "x" * 10_000


def test_hostile_title_reaches_slack_escaped(fake: FakeSlack, slack: SlackNotifier) -> None:
    slack.post(ALERTS, message(headline=HOSTILE, body=HOSTILE, mentions=()))

    (call,) = fake.calls("chat.postMessage")
    assert call.answer["ok"] is True  # within every Block Kit limit
    header = call.args["blocks"][0]["text"]["text"]
    assert header.startswith("&lt;!channel&gt; @\u2060everyone &lt;@U123&gt; &lt;https://evil.example|click&gt; Fish &amp; chips txt.exe")
    wire = str(call.args["blocks"]) + call.args["text"]
    for raw in ("<!channel>", "<@U123>", "<https://evil", "\u202e", "@everyone"):
        assert raw not in wire


def test_slack_refuses_what_outage_bot_must_never_send(fake: FakeSlack) -> None:
    """The fake enforces Slack's limits; this checks the fake itself catches an oversize header."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token=TOKEN, base_url=fake.api_url)
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C0ALERTS01", text="x", blocks=[{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}])
    assert caught.value.response["error"] == "invalid_blocks"


# -- recovery after a crash between post and record --------------------------------------------
def test_find_recovers_a_root_posted_before_a_crash(fake: FakeSlack, slack: SlackNotifier) -> None:
    posted = slack.post(ALERTS, message())
    for i in range(30):
        fake.post_as_user("C0ALERTS01", f"chatter {i}")

    # a new run, a new notifier: nothing recorded, so it looks before posting
    rerun = SlackNotifier(TOKEN, base_url=fake.api_url, backoff=0.01)
    found = rerun.find(ALERTS, "acme/shop#41:g1:chat:alerts")

    assert found == posted
    assert len(fake.roots("C0ALERTS01")) == 31  # nothing posted twice
    (lookup,) = fake.calls("conversations.list")  # a #name costs one listing
    assert lookup.args["types"] == "public_channel,private_channel"
    (history,) = fake.calls("conversations.history")
    assert history.args["channel"] == "C0ALERTS01"
    assert history.args["include_all_metadata"] == "1" and history.args["limit"] == "100"
    assert rerun.find(ALERTS, "another-key") is None


def test_find_by_channel_id_needs_no_listing(fake: FakeSlack, slack: SlackNotifier) -> None:
    posted = slack.post(SECURITY, message(metadata_key="sec:1"))
    assert slack.find(SECURITY, "sec:1") == posted
    assert fake.calls("conversations.list") == []


def test_find_uses_the_id_learnt_from_a_post(fake: FakeSlack, slack: SlackNotifier) -> None:
    slack.post(ALERTS, message(metadata_key="other"))
    assert slack.find(ALERTS, "missing") is None
    assert fake.calls("conversations.list") == []


def test_find_needs_metadata_that_history_only_returns_when_asked(fake: FakeSlack, slack: SlackNotifier) -> None:
    slack.post(SECURITY, message(metadata_key="sec:1"))
    from slack_sdk import WebClient

    plain = WebClient(token=TOKEN, base_url=fake.api_url).conversations_history(channel="G0SECURITY")
    assert "metadata" not in plain["messages"][0]  # hence include_all_metadata


def test_find_reads_a_bounded_number_of_history_pages(fake: FakeSlack) -> None:
    notifier = SlackNotifier(TOKEN, base_url=fake.api_url, history_pages=2)
    old = notifier.post(SECURITY, message(metadata_key="old"))
    for i in range(250):
        fake.post_as_user("G0SECURITY", f"noise {i}")

    assert notifier.find(SECURITY, "old") is None  # 251st newest: beyond 2 pages of 100
    assert len(fake.calls("conversations.history")) == 2
    assert SlackNotifier(TOKEN, base_url=fake.api_url, history_pages=3).find(SECURITY, "old") == old


def test_find_in_a_given_thread_recovers_a_reply(fake: FakeSlack, slack: SlackNotifier) -> None:
    root = slack.post(ALERTS, message())
    reply = slack.post(ALERTS, message(metadata_key="k:reminder"), thread=root)

    assert slack.find(ALERTS, "k:reminder", thread=root) == reply
    (call,) = fake.calls("conversations.replies")
    assert call.args["ts"] == root.ts and call.args["include_all_metadata"] == "1"
    assert fake.calls("conversations.history") == []


def test_find_without_the_thread_looks_in_our_alerts_threads(fake: FakeSlack, slack: SlackNotifier) -> None:
    """History never lists replies; the executor may know only the reply's key."""
    root = slack.post(ALERTS, message())
    slack.post(ALERTS, message(metadata_key="k:ack"), thread=root)
    reply = slack.post(ALERTS, message(metadata_key="k:reminder"), thread=root)
    someone = fake.post_as_user("C0ALERTS01", "a person's thread")
    from slack_sdk import WebClient

    WebClient(token=TOKEN, base_url=fake.api_url).chat_postMessage(channel="C0ALERTS01", text="r", thread_ts=someone)

    assert slack.find(ALERTS, "k:reminder") == reply
    assert [c.args["ts"] for c in fake.calls("conversations.replies")] == [root.ts]  # only our alerts' threads
    assert slack.find(ALERTS, "k:never-posted") is None


def test_thread_scan_is_bounded(fake: FakeSlack) -> None:
    notifier = SlackNotifier(TOKEN, base_url=fake.api_url, thread_scan=2)
    roots = [notifier.post(SECURITY, message(metadata_key=f"root:{i}")) for i in range(4)]
    for i, root in enumerate(roots):
        notifier.post(SECURITY, message(metadata_key=f"reply:{i}"), thread=root)

    assert notifier.find(SECURITY, "reply:3") is not None  # newest first
    assert notifier.find(SECURITY, "reply:0") is None  # fourth newest: beyond the scan
    assert len(fake.calls("conversations.replies")) == 1 + 2


def test_find_ignores_other_apps_metadata(fake: FakeSlack, slack: SlackNotifier) -> None:
    from slack_sdk import WebClient

    WebClient(token=TOKEN, base_url=fake.api_url).chat_postMessage(
        channel="C0ALERTS01", text="x", metadata={"event_type": "task_created", "event_payload": {"key": "k"}}
    )
    assert slack.find(ALERTS, "k") is None


def test_unknown_channel_name_in_find_is_channel_not_found(fake: FakeSlack, slack: SlackNotifier) -> None:
    with pytest.raises(ServiceError) as caught:
        slack.find(Channel("ops", slack="#no-such-channel"), "k")
    assert caught.value.detail == "channel_not_found"
    assert "#no-such-channel" in str(caught.value)


# -- failures ----------------------------------------------------------------------------------
def post_error(fake: FakeSlack, slack: SlackNotifier, channel: Channel) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        slack.post(channel, message())
    error = caught.value
    assert error.service == "slack" and error.exit_code == 2
    assert TOKEN not in str(error)
    return error


def test_channel_not_found(fake: FakeSlack, slack: SlackNotifier) -> None:
    error = post_error(fake, slack, Channel("alerts", slack="#outage-alrets"))
    assert error.request == "chat.postMessage #outage-alrets"
    assert error.detail == "channel_not_found"
    assert "channels:" in error.hint and "#outage-alrets" in error.hint
    assert str(error).startswith("slack: chat.postMessage #outage-alrets failed: channel_not_found\n  fix: ")


def test_private_channel_without_the_app_is_channel_not_found(fake: FakeSlack, slack: SlackNotifier) -> None:
    fake.add_channel("secret-ops", id="G0SECRET01", private=True, member=False)
    error = post_error(fake, slack, Channel("ops", slack="G0SECRET01"))
    assert error.detail == "channel_not_found" and "invited" in error.hint


def test_not_in_channel(fake: FakeSlack, slack: SlackNotifier) -> None:
    fake.add_channel("status", id="C0STATUS01", member=False)
    error = post_error(fake, slack, Channel("status", slack="#status"))
    assert error.detail == "not_in_channel"
    assert "/invite @" in error.hint and "#status" in error.hint


def test_invalid_auth(fake: FakeSlack) -> None:
    wrong = SlackNotifier("xoxb-wrong-secret-token", base_url=fake.api_url, backoff=0.01)
    error = post_error(fake, wrong, ALERTS)
    assert error.detail == "invalid_auth"
    assert "SLACK_BOT_TOKEN" in error.hint and "xoxb-" in error.hint
    assert "wrong-secret" not in str(error)


def test_missing_scope_names_the_scope(fake: FakeSlack, slack: SlackNotifier) -> None:
    fake.scopes.discard("reactions:write")
    root = slack.post(ALERTS, message())
    with pytest.raises(ServiceError) as caught:
        slack.react(root, "eyes")
    error = caught.value
    assert error.request == f"reactions.add :eyes: C0ALERTS01 {root.ts}"
    assert error.detail == "missing_scope (needed: reactions:write)"
    assert "reactions:write" in error.hint and "reinstall" in error.hint


def test_history_on_a_private_channel_needs_groups_history(fake: FakeSlack, slack: SlackNotifier) -> None:
    fake.scopes.discard("groups:history")
    with pytest.raises(ServiceError) as caught:
        slack.find(SECURITY, "k")
    assert caught.value.detail == "missing_scope (needed: groups:history)"


def test_archived_channel(fake: FakeSlack, slack: SlackNotifier) -> None:
    fake.add_channel("old-alerts", id="C0OLDALERT", archived=True)
    error = post_error(fake, slack, Channel("alerts", slack="C0OLDALERT"))
    assert error.detail == "is_archived" and "unarchive" in error.hint


def test_update_of_a_deleted_alert(fake: FakeSlack, slack: SlackNotifier) -> None:
    with pytest.raises(ServiceError) as caught:
        slack.update(ChatRef("slack", "C0ALERTS01", "1600000000.000001"), message())
    assert caught.value.request == "chat.update C0ALERTS01 1600000000.000001"
    assert caught.value.detail == "message_not_found" and "deleted" in caught.value.hint


def test_rate_limit_is_retried_after_retry_after(fake: FakeSlack, slack: SlackNotifier) -> None:
    fake.fail("chat.postMessage", "ratelimited", status=429, retry_after=0)
    started = time.monotonic()
    ref = slack.post(ALERTS, message())
    assert time.monotonic() - started < 2.5  # Retry-After 0, plus slack_sdk's jitter of up to 1s
    calls = fake.calls("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert len(fake.roots("C0ALERTS01")) == 1 and ref.ts


def test_rate_limit_that_persists_is_a_service_error(fake: FakeSlack) -> None:
    notifier = SlackNotifier(TOKEN, base_url=fake.api_url, retries=1, backoff=0.01)
    fake.fail("chat.postMessage", "ratelimited", status=429, retry_after=0, times=2)
    error = post_error(fake, notifier, ALERTS)
    assert error.detail == "ratelimited" and "next run retries" in error.hint
    assert len(fake.calls("chat.postMessage")) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_where_a_repeat_is_harmless(fake: FakeSlack, slack: SlackNotifier, status: int) -> None:
    root = slack.post(ALERTS, message())
    fake.fail("chat.update", "internal_error", status=status)
    fake.fail("reactions.add", "internal_error", status=status)
    fake.fail("conversations.history", "internal_error", status=status)
    slack.update(root, message(status="resolved"))
    slack.react(root, "white_check_mark")
    assert slack.find(ALERTS, "acme/shop#41:g1:chat:alerts") == root
    for api in ("chat.update", "reactions.add", "conversations.history"):
        assert [c.status for c in fake.calls(api)] == [status, 200]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_post_is_never_repeated_after_a_server_error(fake: FakeSlack, slack: SlackNotifier, status: int) -> None:
    # Slack may have stored the message before the 5xx: the executor looks it up instead
    # (test_slack_uncertain_writes.py has every way an answer gets lost).
    fake.fail("chat.postMessage", "internal_error", status=status)
    error = post_error(fake, slack, ALERTS)
    assert error.uncertain
    assert [c.status for c in fake.calls("chat.postMessage")] == [status]


def test_server_error_that_persists_is_a_service_error(fake: FakeSlack, slack: SlackNotifier) -> None:
    fake.fail("chat.update", "", status=502, body="<html><body>Bad Gateway</body></html>", times=3)
    root = slack.post(ALERTS, message())
    with pytest.raises(ServiceError) as caught:
        slack.update(root, message())
    assert caught.value.detail == "HTTP 502" and "next run retries" in caught.value.hint
    assert len(fake.calls("chat.update")) == 3  # one try and two retries


def test_ok_false_is_not_retried(fake: FakeSlack, slack: SlackNotifier) -> None:
    fake.fail("chat.postMessage", "channel_not_found")
    post_error(fake, slack, ALERTS)
    assert len(fake.calls("chat.postMessage")) == 1


def test_unreachable_slack_is_a_service_error(slack: SlackNotifier) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    notifier = SlackNotifier(TOKEN, base_url=f"http://127.0.0.1:{port}/api/", backoff=0.01, timeout=2)
    started = time.monotonic()
    with pytest.raises(ServiceError) as caught:
        notifier.post(USERS, message())
    assert time.monotonic() - started < 2
    assert caught.value.detail.startswith("could not reach Slack: ConnectionRefusedError")
    assert caught.value.request == "chat.postMessage #troubleshooting"
    assert TOKEN not in str(caught.value)
