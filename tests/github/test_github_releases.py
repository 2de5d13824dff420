"""The repository's releases through PyGithub against the fake GitHub (a regression kind's
alert names the last known good): one request, newest first, drafts left out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fake_github import FakeGitHub

from bot.adapters.github import GitHubForge

T0 = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)


def test_releases_newest_first_without_drafts_in_one_request(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.add_release("v1.2.9", T0 - timedelta(days=9))
    fake.add_release("v1.3.0", T0 - timedelta(hours=2))
    fake.add_release("v1.4.0-draft", T0 - timedelta(hours=1), draft=True)
    fake.clear()
    found = forge.releases()
    assert [(r.tag, r.at) for r in found] == [("v1.3.0", T0 - timedelta(hours=2)), ("v1.2.9", T0 - timedelta(days=9))]
    assert found[0].url.endswith("/releases/tag/v1.3.0")
    assert fake.lines() == [f"GET /repos/{fake.full_name}/releases"]
