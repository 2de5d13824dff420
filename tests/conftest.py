"""Shared fixtures. No test may use a real credential: the environment is cleaned for every test."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# In CI (`.ci/run` runs with CI=true) the property and fuzz tests try the same examples every
# run, so a landing never depends on a random draw; a developer's runs stay random and keep
# looking for new failures (pin what they find with @example).
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SECRETS = ("GITHUB_TOKEN", "GITLAB_TOKEN", "SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "GITHUB_ACTIONS", "GITLAB_CI",
           "OUTAGE_BOT_CONFIG", "GITHUB_EVENT_PATH", "GITHUB_EVENT_NAME", "TRIGGER_PAYLOAD", "CI_PIPELINE_SOURCE")


@pytest.fixture(autouse=True)
def _no_real_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
