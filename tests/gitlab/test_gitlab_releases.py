"""The project's releases through python-gitlab against the fake GitLab (a regression kind's
alert names the last known good): one request, newest first."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fake_gitlab import FakeGitLab

from bot.adapters.gitlab import GitLabForge

T0 = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)


def test_releases_newest_first_in_one_request(fake: FakeGitLab, forge: GitLabForge) -> None:
    fake.add_release("v1.2.9", T0 - timedelta(days=9))
    fake.add_release("v1.3.0", T0 - timedelta(hours=2))
    fake.reset_requests()
    found = forge.releases()
    assert [(r.tag, r.at) for r in found] == [("v1.3.0", T0 - timedelta(hours=2)), ("v1.2.9", T0 - timedelta(days=9))]
    assert found[0].url.endswith("/-/releases/v1.3.0")
    assert [(r.method, r.path) for r in fake.requests] == [("GET", f"/projects/{fake.project_id}/releases")]
