"""Fixtures for the GitLab adapter: a fake GitLab on 127.0.0.1 and python-gitlab pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_gitlab import TOKEN, FakeGitLab

from bot.adapters.gitlab import GitLabForge

# Real tokens and CI variables must never reach a test (nor a test reach the internet).
_SCRUBBED = (
    "GITLAB_TOKEN", "GITHUB_TOKEN", "SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "SLACK_API_URL", "GITLAB_CI",
    "GITHUB_ACTIONS", "CI_API_V4_URL", "CI_PROJECT_ID", "CI_PROJECT_PATH", "CI_PIPELINE_SOURCE", "TRIGGER_PAYLOAD",
    "CI_PIPELINE_ID", "OUTAGE_BOT_CONFIG",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _SCRUBBED:
        monkeypatch.delenv(name, raising=False)
    # requests honours proxy variables; the fake is on loopback and must be reached directly.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    with FakeGitLab() as server:
        yield server


@pytest.fixture
def forge(fake: FakeGitLab) -> GitLabForge:
    # Two repeats: python-gitlab waits 0.1s then 0.2s between 5xx tries; Retry-After in the
    # fake's 429s is at most 1s.
    return GitLabForge(fake.url, TOKEN, fake.project_id, project_path=fake.project_path, max_retries=2)
