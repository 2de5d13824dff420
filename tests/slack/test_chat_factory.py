"""notifiers_from_env: which notifier serves each policy channel, and what is missing."""

from __future__ import annotations

from chat_samples import message
from fake_slack import TOKEN, FakeSlack

from bot.adapters.apprise_chat import AppriseNotifier
from bot.adapters.chat import notifiers_from_env, unserved, webhook_variable
from bot.adapters.slack import SlackNotifier, SlackWebhookNotifier
from bot.records import Channel

CHANNELS = {
    "alerts": Channel("alerts", slack="#outage-alerts"),
    "users": Channel("users", slack="#troubleshooting", audience="users"),
    "security": Channel("security", slack="G0SECURITY"),
    "teams": Channel("teams", apprise="workflows://${TEAMS_A}/${TEAMS_B}/${TEAMS_C}/"),
}


def test_a_bot_token_serves_every_slack_channel_with_one_client() -> None:
    found = notifiers_from_env({"SLACK_BOT_TOKEN": "xoxb-1\n"}, CHANNELS)
    assert set(found) == {"alerts", "users", "security"}
    assert isinstance(found["alerts"], SlackNotifier)
    assert found["alerts"] is found["users"] is found["security"]
    assert found["alerts"].client.base_url == "https://slack.com/api/"
    assert found["alerts"].client.token == "xoxb-1"  # a pasted newline is not part of the token


def test_slack_api_url_points_the_client_elsewhere(fake: FakeSlack) -> None:
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": fake.api_url.rstrip("/")}
    found = notifiers_from_env(env, CHANNELS)
    found["security"].post(CHANNELS["security"], message())
    assert len(fake.calls("chat.postMessage")) == 1


def test_the_token_wins_over_a_webhook() -> None:
    found = notifiers_from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/x"}, CHANNELS)
    assert isinstance(found["alerts"], SlackNotifier)


def test_one_webhook_serves_every_channel_but_confidential_ones() -> None:
    env = {"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/general"}
    found = notifiers_from_env(env, CHANNELS, confidential={"security"})
    assert set(found) == {"alerts", "users"}
    assert isinstance(found["alerts"], SlackWebhookNotifier) and found["alerts"] is found["users"]
    assert unserved(env, CHANNELS, confidential={"security"})["security"] == "SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL_SECURITY"


def test_a_channel_webhook_variable_takes_precedence() -> None:
    env = {
        "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/general",
        "SLACK_WEBHOOK_URL_SECURITY": "https://hooks.slack.com/services/T/B/security",
    }
    found = notifiers_from_env(env, CHANNELS, confidential={"security"})
    assert set(found) == {"alerts", "users", "security"}
    assert found["security"] is not found["alerts"]
    assert found["security"].variable == "SLACK_WEBHOOK_URL_SECURITY"
    assert found["alerts"].variable == "SLACK_WEBHOOK_URL"


def test_webhook_variable_names() -> None:
    assert webhook_variable("security") == "SLACK_WEBHOOK_URL_SECURITY"
    assert webhook_variable("on-call.team") == "SLACK_WEBHOOK_URL_ON_CALL_TEAM"


def test_apprise_channels_need_every_variable_of_their_url() -> None:
    partial = {"TEAMS_A": "a", "TEAMS_B": "b"}
    assert "teams" not in notifiers_from_env(partial, CHANNELS)
    assert unserved(partial, CHANNELS)["teams"] == "TEAMS_C"
    found = notifiers_from_env({**partial, "TEAMS_C": "c"}, CHANNELS)
    assert isinstance(found["teams"], AppriseNotifier)


def test_nothing_configured_serves_nothing_and_says_why() -> None:
    assert notifiers_from_env({}, CHANNELS) == {}
    assert unserved({}, CHANNELS) == {
        "alerts": "SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL_ALERTS or SLACK_WEBHOOK_URL",
        "users": "SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL_USERS or SLACK_WEBHOOK_URL",
        "security": "SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL_SECURITY or SLACK_WEBHOOK_URL",
        "teams": "TEAMS_A / TEAMS_B / TEAMS_C",
    }


def test_a_channel_with_both_falls_back_to_apprise_without_slack_credentials() -> None:
    both = {"ops": Channel("ops", slack="#ops", apprise="json://127.0.0.1/x")}
    assert isinstance(notifiers_from_env({}, both)["ops"], AppriseNotifier)
    assert isinstance(notifiers_from_env({"SLACK_BOT_TOKEN": "xoxb-1"}, both)["ops"], SlackNotifier)


def test_an_empty_variable_is_unset() -> None:
    assert notifiers_from_env({"SLACK_BOT_TOKEN": " ", "SLACK_WEBHOOK_URL": ""}, CHANNELS) == {}
