"""Shared fixtures. No test may use a real credential: the environment is cleaned for every test."""

from __future__ import annotations

import pytest

SECRETS = ("GITHUB_TOKEN", "GITLAB_TOKEN", "SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "GITHUB_ACTIONS", "GITLAB_CI",
           "OUTAGE_BOT_CONFIG", "GITHUB_EVENT_PATH", "GITHUB_EVENT_NAME", "TRIGGER_PAYLOAD", "CI_PIPELINE_SOURCE")


@pytest.fixture(autouse=True)
def _no_real_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
