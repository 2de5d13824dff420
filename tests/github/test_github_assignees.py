"""Opening an issue with an assignee (the post-mortem's owner) through PyGithub against the fake
GitHub: assigned when GitHub accepts the login; when it refuses it (422: nothing was created),
opened once without it."""

from __future__ import annotations

from fake_github import FakeGitHub

from bot.adapters.github import GitHubForge


def test_an_assignee_with_access_is_assigned(fake: FakeGitHub, forge: GitHubForge) -> None:
    fake.set_role("eng-a", "write")
    fake.clear()
    issue = forge.create_issue(title="Post-mortem: x", body="b", labels=["postmortem"], assignees=["eng-a"])
    assert fake.issues[issue.number].assignees == ["eng-a"]
    assert fake.lines() == [f"POST /repos/{fake.full_name}/issues"]


def test_an_assignee_github_refuses_is_left_out_and_the_issue_opened_once(fake: FakeGitHub, forge: GitHubForge) -> None:
    before = len(fake.issues)
    fake.clear()
    issue = forge.create_issue(title="Post-mortem: x", body="b", labels=["postmortem"], assignees=["nobody-here"])
    assert len(fake.issues) == before + 1 and fake.issues[issue.number].assignees == []
    assert fake.lines() == [f"POST /repos/{fake.full_name}/issues"] * 2  # 422, then without the assignee
