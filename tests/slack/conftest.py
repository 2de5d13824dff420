"""Fixtures for the chat notifiers: a fake Slack on 127.0.0.1, notifiers pointed at it, and a
fence that fails any test trying to reach another address."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from chat_samples import DEFAULT_CHANNELS
from fake_slack import TOKEN, FakeSlack

from bot.adapters.slack import SlackNotifier

SECRET_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_WEBHOOK_URL",
    "SLACK_API_URL",
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real token reaches a test; no proxy variable reroutes 127.0.0.1 (slack_sdk reads them)."""
    for name in SECRET_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if anything connects anywhere but 127.0.0.1."""
    real = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            if not ipaddress.ip_address(host).is_loopback:
                raise AssertionError(f"a test tried to reach {host}: tests talk to 127.0.0.1 only")
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A fake Slack with the policy's usual channels; the app is a member of all of them."""
    with FakeSlack() as server:
        server.add_channel("outage-alerts", id="C0ALERTS01")
        server.add_channel("troubleshooting", id="C0USERS001")
        server.add_channel("announcements", id="C0ANNOUNCE")
        server.add_channel("internal-infra-alerts", id="G0SECURITY", private=True)
        yield server


@pytest.fixture
def workspace() -> Iterator[FakeSlack]:
    """A fake Slack with the default policy's channels (chat_samples.DEFAULT_CHANNELS)."""
    with FakeSlack() as server:
        for name, cid in DEFAULT_CHANNELS.items():
            server.add_channel(name, id=cid, private=name == "security-incidents")
        yield server


@pytest.fixture
def slack(fake: FakeSlack) -> SlackNotifier:
    """The real Web API notifier against the fake, with tiny backoffs."""
    return SlackNotifier(TOKEN, base_url=fake.api_url, backoff=0.01, retries=2, timeout=5)
