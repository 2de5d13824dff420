"""Slack notifiers on slack_sdk: the Web API (`SLACK_BOT_TOKEN`: threads, edits, reactions,
recovery after a crash) and an incoming webhook (`SLACK_WEBHOOK_URL`: posts only)."""

from bot.adapters.slack.blocks import EVENT_TYPE
from bot.adapters.slack.web_api import DEFAULT_API_URL, SlackNotifier
from bot.adapters.slack.webhook import SlackWebhookNotifier

__all__ = ["DEFAULT_API_URL", "EVENT_TYPE", "SlackNotifier", "SlackWebhookNotifier"]
