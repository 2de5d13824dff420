"""Each chat service on its own protocol: outage-bot's Apprise notifier, through the real
Apprise library, to a local counterpart of the service (tests/slack/fake_smtp.py: a real SMTP
server; tests/slack/fake_services.py: Teams, Discord, Telegram and Matrix answering in their
documented shapes), asserting what arrives and how the services' own errors are reported.

Where Apprise lets the URL name the host, it names 127.0.0.1 (mailto://, workflows://,
matrix://). Discord and Telegram cannot: Apprise's `discord://` and `tgram://` always call
discord.com and api.telegram.org (the plugins' `notify_url`), so those tests move that one
class attribute to the fake; the request itself is built by Apprise's code unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from chat_samples import message
from fake_services import (
    DISCORD_RATE_LIMIT_HEADERS,
    DISCORD_RATE_LIMITED,
    DISCORD_UNKNOWN_WEBHOOK,
    MATRIX_RATE_LIMITED,
    TEAMS_THROTTLED,
    TELEGRAM_BLOCKED,
    TELEGRAM_FLOOD,
    LoopbackService,
    MatrixRoom,
    discord_webhook,
    matrix_homeserver,
    teams_workflows,
    telegram_bot_api,
)
from fake_smtp import FakeSMTP

from bot.adapters.apprise_chat import AppriseNotifier
from bot.errors import ServiceError
from bot.records import Channel, ChatMessage

pytestmark = [
    # The Teams fake serves TLS with a self-signed certificate (`verify=no` in its URL).
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
    # The SMTP fake asks for AUTH over plain SMTP (no certificate a client would trust).
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated"),
]


def send(url: str, env: dict[str, str], msg: ChatMessage | None = None, *, channel: str = "ops") -> None:
    notifier = AppriseNotifier(env, timeout=5, rate_limit_wait=0.01, rate_limit_retries=2)
    notifier.post(Channel(channel, apprise=url), msg or message())


def refused(url: str, env: dict[str, str], caplog: pytest.LogCaptureFixture, *, channel: str = "ops") -> ServiceError:
    """The ServiceError a refused post raises; nothing secret in it or in the process log."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ServiceError) as caught:
        send(url, env, channel=channel)
    error = caught.value
    assert error.service == "apprise" and error.request == f"notify channel {channel}"
    shown = str(error) + caplog.text
    for secret in env.values():
        assert secret not in shown
    return error


def first_line(error: ServiceError) -> str:
    return str(error).splitlines()[0]


# --- e-mail: a real SMTP server ------------------------------------------------------------

SMTP_USER, SMTP_PASSWORD = "outage-bot@example.org", "smtp-Pa55-word"


@pytest.fixture
def smtp() -> Iterator[FakeSMTP]:
    with FakeSMTP(SMTP_USER, SMTP_PASSWORD) as server:
        yield server


def mail_url(smtp: FakeSMTP) -> str:
    # mailto:// (not mailtos://) and no `mode=`: plain SMTP to the host and port in the URL.
    # The user holds an @, so it is written %40; from= and to= name the envelope.
    return (f"mailto://outage-bot%40example.org:${{SMTP_PASSWORD}}@{smtp.hostport}"
            "?from=outage-bot@example.org&to=oncall@example.org&name=Outage%20Bot")


def test_email_arrives_with_the_headline_as_subject(smtp: FakeSMTP) -> None:
    send(mail_url(smtp), {"SMTP_PASSWORD": SMTP_PASSWORD})

    (got,) = smtp.delivered
    assert smtp.logins == [SMTP_USER]  # AUTH with the user and the password from the environment
    assert got.mail_from == "outage-bot@example.org" and got.rcpt_tos == ["oncall@example.org"]
    mail = got.message
    assert mail["Subject"] == "Checkout is down"
    assert mail["From"] == "Outage Bot <outage-bot@example.org>" and mail["To"] == "oncall@example.org"
    assert mail.get_content_type() == "text/plain"
    text = mail.get_content()
    assert text.splitlines()[0] == "🔴 CRITICAL · Open"
    assert "Payments fail with a 502 for every customer." in text
    assert "Deadline: Tue 03 Nov 10:00 EST (15:00 UTC)" in text
    assert "Outage #42: https://github.com/acme/shop/issues/42" in text
    assert "U02TAYLOR" not in text
    assert SMTP_PASSWORD.encode() not in got.raw


def test_email_with_a_wrong_password_is_refused_not_counted_as_sent(
        smtp: FakeSMTP, caplog: pytest.LogCaptureFixture) -> None:
    # The server answers AUTH with 535: nothing was sent, so the run must not count the post as
    # sent (the executor does that with an uncertain error on a service it cannot read back);
    # the message stays in the outbox and the next run retries it.
    error = refused(mail_url(smtp), {"SMTP_PASSWORD": "not-the-password"}, caplog)
    assert not error.uncertain
    assert "email" in first_line(error)
    assert "SMTP_PASSWORD" in error.hint
    assert smtp.delivered == []


def test_email_to_a_refused_recipient_is_not_counted_as_sent(smtp: FakeSMTP, caplog: pytest.LogCaptureFixture) -> None:
    smtp.refuse_rcpt = True  # 550 5.1.1 User unknown
    error = refused(mail_url(smtp), {"SMTP_PASSWORD": SMTP_PASSWORD}, caplog)
    assert not error.uncertain
    assert first_line(error).endswith('Sending email to "oncall@example.org" failed.')
    assert smtp.delivered == []


def test_email_to_a_closed_port_is_not_sent(caplog: pytest.LogCaptureFixture) -> None:
    with FakeSMTP(SMTP_USER, SMTP_PASSWORD) as gone:
        url = mail_url(gone)
    error = refused(url, {"SMTP_PASSWORD": SMTP_PASSWORD}, caplog)
    assert not error.uncertain and "email" in first_line(error)


# --- Microsoft Teams: a Workflows (Power Automate) webhook --------------------------------

WORKFLOW, SIGNATURE = "643e69f83c8944438d68119179a10a64", "KODuebWbDGYFr0z0eu-6Rj8aUKz7108W3wrNJZxFE5A"


@pytest.fixture
def teams(tmp_path: Path) -> Iterator[LoopbackService]:
    with teams_workflows(tmp_path, workflow=WORKFLOW, signature=SIGNATURE) as server:
        yield server


def teams_url(teams: LoopbackService) -> str:
    # workflows:// always speaks HTTPS; verify=no accepts the fake's self-signed certificate.
    return f"workflows://{teams.hostport}/${{TEAMS_WORKFLOW}}/${{TEAMS_SIGNATURE}}/?verify=no&image=no"


TEAMS_ENV = {"TEAMS_WORKFLOW": WORKFLOW, "TEAMS_SIGNATURE": SIGNATURE}


def test_teams_gets_an_adaptive_card_signed_in_the_query(teams: LoopbackService) -> None:
    send(teams_url(teams), TEAMS_ENV)

    (got,) = teams.received
    assert got.method == "POST" and got.path == f"/workflows/{WORKFLOW}/triggers/manual/paths/invoke"
    # The shared access signature is the trigger's only credential: a query parameter, no header.
    assert got.query == {"api-version": "2016-06-01", "sp": "/triggers/manual/run", "sv": "1.0", "sig": SIGNATURE}
    assert "authorization" not in got.headers
    assert got.headers["content-type"] == "application/json"
    assert got.body["type"] == "message"
    (attachment,) = got.body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    title, body = card["body"]  # image=no: no icon block
    assert title == {"type": "TextBlock", "text": "Checkout is down", "style": "heading", "weight": "Bolder",
                     "size": "Large", "id": "title"}
    # Teams reads the TextBlock as Markdown: Apprise escapes our plain text for it (`\.`).
    text = body["text"].replace("\\", "")
    assert text.splitlines()[0] == "🔴 CRITICAL · Open"
    assert "Payments fail with a 502 for every customer." in text
    assert "Outage #42: https://github.com/acme/shop/issues/42" in text


def test_teams_bad_signature_is_named_without_it(teams: LoopbackService, caplog: pytest.LogCaptureFixture) -> None:
    error = refused(teams_url(teams), {**TEAMS_ENV, "TEAMS_SIGNATURE": "forged-signature"}, caplog)
    assert first_line(error) == ("apprise: notify channel ops failed: "
                                 "Failed to send Workflows notification: Verification Failed., error=401.")
    assert not error.uncertain and "TEAMS_WORKFLOW, TEAMS_SIGNATURE" in error.hint


def test_teams_unknown_workflow(teams: LoopbackService, caplog: pytest.LogCaptureFixture) -> None:
    error = refused(teams_url(teams), {**TEAMS_ENV, "TEAMS_WORKFLOW": "0" * 32}, caplog)
    assert "Workflows notification" in first_line(error) and "error=404" in first_line(error)
    assert not error.uncertain


def test_teams_throttled_is_sent_again(teams: LoopbackService) -> None:
    teams.fail(429, TEAMS_THROTTLED, headers={"Retry-After": "1"})
    send(teams_url(teams), TEAMS_ENV)
    assert [r.query["sig"] for r in teams.received] == [SIGNATURE, SIGNATURE]  # the 429 did nothing


def test_teams_server_error_may_have_posted(teams: LoopbackService, caplog: pytest.LogCaptureFixture) -> None:
    teams.fail(502, {"error": {"code": "BadGateway", "message": "The workflow run failed."}})
    error = refused(teams_url(teams), TEAMS_ENV, caplog)
    assert error.uncertain and "error=502" in first_line(error)
    assert len(teams.received) == 1  # never repeated blindly


# --- Discord: execute webhook --------------------------------------------------------------

DISCORD_ID, DISCORD_TOKEN = "1170000000000000099", "hX3-secret-webhook-token_abcdef"
DISCORD_ENV = {"DISCORD_WEBHOOK_ID": DISCORD_ID, "DISCORD_WEBHOOK_TOKEN": DISCORD_TOKEN}
DISCORD_URL = "discord://${DISCORD_WEBHOOK_ID}/${DISCORD_WEBHOOK_TOKEN}/?avatar=no"


@pytest.fixture
def discord(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackService]:
    from apprise.plugins.discord import NotifyDiscord

    with discord_webhook(webhook_id=DISCORD_ID, token=DISCORD_TOKEN) as server:
        # discord:// cannot name a host: Apprise always posts to https://discord.com/api/webhooks.
        monkeypatch.setattr(NotifyDiscord, "notify_url", f"http://{server.hostport}/api/webhooks")
        yield server


def test_discord_gets_the_message_as_content(discord: LoopbackService) -> None:
    send(DISCORD_URL, DISCORD_ENV)

    (got,) = discord.received
    assert got.method == "POST" and got.path == f"/api/webhooks/{DISCORD_ID}/{DISCORD_TOKEN}"
    assert "authorization" not in got.headers  # the webhook token in the path is the credential
    assert got.headers["content-type"].startswith("application/json")
    assert got.body["tts"] is False
    title, _, text = got.body["content"].partition("\r\n")
    assert title == "Checkout is down"
    assert text.splitlines()[0] == "🔴 CRITICAL · Open"
    assert "Outage #42: https://github.com/acme/shop/issues/42" in text


def test_discord_cannot_be_made_to_ping_everyone(discord: LoopbackService) -> None:
    send(DISCORD_URL, DISCORD_ENV, message(headline="@everyone down", body="ask @here or <@&123456>"))
    content = discord.received[0].body["content"]
    assert "@everyone" not in content and "@here" not in content and "<@&123456>" not in content


def test_discord_unknown_webhook(discord: LoopbackService, caplog: pytest.LogCaptureFixture) -> None:
    discord.fail(404, DISCORD_UNKNOWN_WEBHOOK)
    error = refused(DISCORD_URL, DISCORD_ENV, caplog)
    assert first_line(error).startswith("apprise: notify channel ops failed: Failed to send Discord notification")
    assert "error=404" in first_line(error) and not error.uncertain


def test_discord_wrong_token(discord: LoopbackService, caplog: pytest.LogCaptureFixture) -> None:
    error = refused(DISCORD_URL, {**DISCORD_ENV, "DISCORD_WEBHOOK_TOKEN": "revoked-token-000"}, caplog)
    assert "Discord" in first_line(error) and "error=401" in first_line(error) and not error.uncertain


def test_discord_rate_limit_is_waited_out(discord: LoopbackService) -> None:
    discord.fail(429, DISCORD_RATE_LIMITED, headers=DISCORD_RATE_LIMIT_HEADERS)
    send(DISCORD_URL, DISCORD_ENV)
    assert len(discord.received) == 2  # refused once, then delivered once


# --- Telegram: the Bot API -----------------------------------------------------------------

BOT_TOKEN, CHAT_ID = "123456789:AAH-secret-bot-token_xyz", "-1001234567890"
TELEGRAM_ENV = {"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_CHAT_ID": CHAT_ID}
TELEGRAM_URL = "tgram://${TELEGRAM_BOT_TOKEN}/${TELEGRAM_CHAT_ID}/"


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackService]:
    from apprise.plugins.telegram import NotifyTelegram

    with telegram_bot_api(token=BOT_TOKEN, chat_id=CHAT_ID) as server:
        # tgram:// cannot name a host (nor a self-hosted Bot API server): it always calls
        # https://api.telegram.org/bot<token>/...
        monkeypatch.setattr(NotifyTelegram, "notify_url", f"http://{server.hostport}/bot")
        yield server


def test_telegram_send_message(telegram: LoopbackService) -> None:
    send(TELEGRAM_URL, TELEGRAM_ENV, message(body="Payments fail: <b>502</b> & retries"))

    (got,) = telegram.received
    assert got.method == "POST" and got.path == f"/bot{BOT_TOKEN}/sendMessage"  # the token is in the path
    assert got.body["chat_id"] == int(CHAT_ID)
    assert got.body["parse_mode"] == "HTML"
    lines = got.body["text"].splitlines()
    assert lines[0] == "<b>Checkout is down</b>"
    assert "Payments fail: &lt;b&gt;502&lt;/b&gt; &amp; retries" in lines  # our text is not markup there
    assert "Outage #42: https://github.com/acme/shop/issues/42" in lines


@pytest.mark.parametrize(
    ("env", "fail", "says"),
    [
        ({"TELEGRAM_BOT_TOKEN": "123456789:revoked"}, None, "Unauthorized, error=401."),
        ({"TELEGRAM_CHAT_ID": "-100999"}, None, "Bad Request: chat not found, error=400."),
        ({}, (403, TELEGRAM_BLOCKED), "Forbidden: bot was kicked from the supergroup chat, error=403."),
    ],
    ids=["bad-token", "unknown-chat", "kicked"],
)
def test_telegram_refusals_quote_the_description(
        telegram: LoopbackService, caplog: pytest.LogCaptureFixture,
        env: dict[str, str], fail: tuple[int, dict[str, object]] | None, says: str) -> None:
    if fail:
        telegram.fail(*fail)
    error = refused(TELEGRAM_URL, {**TELEGRAM_ENV, **env}, caplog)
    # The chat id is one of the URL's variables, so it is redacted too.
    assert first_line(error) == f"apprise: notify channel ops failed: Failed to send Telegram notification to ***: {says}"
    assert not error.uncertain and len(telegram.received) == 1


def test_telegram_flood_control_is_waited_out_then_reported(
        telegram: LoopbackService, caplog: pytest.LogCaptureFixture) -> None:
    telegram.fail(429, TELEGRAM_FLOOD)
    send(TELEGRAM_URL, TELEGRAM_ENV)
    assert len(telegram.received) == 2

    telegram.received.clear()
    telegram.fail(429, TELEGRAM_FLOOD, times=3)
    error = refused(TELEGRAM_URL, TELEGRAM_ENV, caplog)
    assert "Too Many Requests: retry after 1, error=429." in first_line(error)
    assert not error.uncertain and len(telegram.received) == 3  # 1 + rate_limit_retries


# --- Matrix: the client-server API ---------------------------------------------------------

MATRIX_PASSWORD, ACCESS_TOKEN = "mx-Pa55-secret", "syt_b3V0YWdlYm90_secretAccessToken"


@pytest.fixture
def room() -> MatrixRoom:
    return MatrixRoom("!incidents:localhost", "#incidents:localhost")


@pytest.fixture
def matrix(room: MatrixRoom) -> Iterator[LoopbackService]:
    with matrix_homeserver(user="outagebot", password=MATRIX_PASSWORD, access_token=ACCESS_TOKEN,
                           room=room) as server:
        yield server


def matrix_url(matrix: LoopbackService) -> str:
    # matrix:// is plain HTTP to the host and port given (matrixs:// is HTTPS).
    return f"matrix://outagebot:${{MATRIX_PASSWORD}}@{matrix.hostport}/#incidents?image=no"


def test_matrix_logs_in_joins_and_sends(matrix: LoopbackService, room: MatrixRoom) -> None:
    send(matrix_url(matrix), {"MATRIX_PASSWORD": MATRIX_PASSWORD})

    calls = [(r.method, r.path) for r in matrix.received]
    assert calls == [
        ("POST", "/_matrix/client/v3/login"),
        ("POST", "/_matrix/client/v3/join/#incidents:localhost"),
        ("PUT", "/_matrix/client/v3/rooms/!incidents:localhost/send/m.room.message/0"),
        ("POST", "/_matrix/client/v3/logout"),
    ]
    login = matrix.received[0]
    assert login.body["type"] == "m.login.password"
    assert login.body["identifier"] == {"type": "m.id.user", "user": "outagebot"}
    assert "authorization" not in login.headers
    # Everything after the login carries the token it returned, as a Bearer header.
    assert {r.headers["authorization"] for r in matrix.received[1:]} == {f"Bearer {ACCESS_TOKEN}"}
    (event,) = room.events
    assert event["type"] == "m.room.message" and event["sender"] == "@outagebot:localhost"
    assert event["content"]["msgtype"] == "m.text"
    text = event["content"]["body"]
    assert "Checkout is down" in text.splitlines()[0]
    assert "Payments fail with a 502 for every customer." in text
    assert MATRIX_PASSWORD not in text


def test_matrix_wrong_password(matrix: LoopbackService, room: MatrixRoom, caplog: pytest.LogCaptureFixture) -> None:
    error = refused(matrix_url(matrix), {"MATRIX_PASSWORD": "wrong-password"}, caplog)
    assert "Matrix" in first_line(error) and "error=403" in first_line(error)
    assert not error.uncertain and room.events == []
    assert [r.path for r in matrix.received] == ["/_matrix/client/v3/login", "/_matrix/client/v3/register"]


def test_matrix_forbidden_in_the_room(matrix: LoopbackService, room: MatrixRoom,
                                      caplog: pytest.LogCaptureFixture) -> None:
    matrix.fail(403, {"errcode": "M_FORBIDDEN", "error": "You don't have permission to post that to the room."},
                path="/send/")
    error = refused(matrix_url(matrix), {"MATRIX_PASSWORD": MATRIX_PASSWORD}, caplog)
    assert first_line(error) == "apprise: notify channel ops failed: Could not send notification Matrix room #incidents."
    assert not error.uncertain and room.events == []
    assert ACCESS_TOKEN not in str(error)


def test_matrix_rate_limit_is_waited_out_with_the_same_transaction(
        matrix: LoopbackService, room: MatrixRoom) -> None:
    matrix.fail(429, MATRIX_RATE_LIMITED, path="/send/")
    send(matrix_url(matrix), {"MATRIX_PASSWORD": MATRIX_PASSWORD})
    sends = matrix.requests("PUT", "/send/")
    # Sent again with the same transaction id, which the homeserver deduplicates.
    assert [r.path for r in sends] == [sends[0].path] * 2
    assert len(room.events) == 1
