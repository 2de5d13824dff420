"""GitHub's shapes -> the forge-neutral records. Nothing here makes a request."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from bot.records import Comment, Issue
from github.Issue import Issue as GhIssue
from github.IssueComment import IssueComment as GhComment


def parse_time(text: str) -> datetime:
    """GitHub's ISO 8601 times ("2019-05-15T15:20:18Z") as aware UTC datetimes.

    `fromisoformat` only reads the "Z" suffix from Python 3.11 on; the project supports 3.10."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def issue_from_payload(data: Mapping[str, Any]) -> Issue:
    """An issue as REST and webhook payloads show it (the same shape in both)."""
    reactions = data.get("reactions")
    return Issue(
        number=int(data["number"]),
        title=str(data["title"]),
        body=data.get("body") or "",  # null when the issue was opened with an empty body
        labels=tuple(str(label["name"]) for label in data["labels"]),
        state=str(data["state"]),
        url=str(data["html_url"]),
        author=str(data["user"]["login"]),
        created_at=parse_time(data["created_at"]),
        updated_at=parse_time(data["updated_at"]),
        # Older payloads have no reactions rollup: unknown, not zero.
        eyes=int(reactions["eyes"]) if isinstance(reactions, Mapping) and "eyes" in reactions else None,
        node_id=data.get("node_id"),
        closed_by=_login(data.get("closed_by")),
    )


def issue_from_object(issue: GhIssue) -> Issue:
    """From a PyGithub Issue. Only attributes every issue response carries are read: reading an
    absent one would make PyGithub fetch the issue again, a hidden request."""
    reactions = issue.reactions
    return Issue(
        number=issue.number,
        title=issue.title,
        body=issue.body or "",
        labels=tuple(label.name for label in issue.labels),
        state=issue.state,
        url=issue.html_url,
        author=issue.user.login,
        created_at=as_utc(issue.created_at),
        updated_at=as_utc(issue.updated_at),
        eyes=int(reactions["eyes"]) if reactions and "eyes" in reactions else None,
        node_id=issue.node_id,
    )


def closed_by(issue: GhIssue) -> str | None:
    """Who closed it. Only `GET /issues/{n}` carries `closed_by`: call this on an issue fetched
    whole (`complete()`), where reading raw_data costs no request."""
    return _login(issue.raw_data.get("closed_by"))


def _login(user: Any) -> str | None:
    return str(user["login"]) if isinstance(user, Mapping) and user.get("login") else None


def is_pull_request(issue: GhIssue) -> bool:
    """The issues list also returns pull requests. Their `pull_request` key is absent on plain
    issues, and reading an absent attribute costs a request: the html_url tells them apart."""
    return "/pull/" in issue.html_url


def comment_from_object(comment: GhComment) -> Comment:
    return Comment(
        id=comment.id,
        author=comment.user.login,
        body=comment.body or "",
        created_at=as_utc(comment.created_at),
    )


def issue_from_graphql(node: Mapping[str, Any]) -> Issue:
    """From the `Issue` selection in graphql.ISSUE_FIELDS."""
    return Issue(
        number=int(node["number"]),
        title=str(node["title"]),
        body=node.get("body") or "",
        labels=tuple(str(label["name"]) for label in node["labels"]["nodes"]),
        state=str(node["state"]).lower(),  # GraphQL's IssueState is OPEN / CLOSED
        url=str(node["url"]),
        # `author` is null when the account was deleted (GitHub shows "ghost").
        author=str((node.get("author") or {}).get("login", "ghost")),
        created_at=parse_time(node["createdAt"]),
        updated_at=parse_time(node["updatedAt"]),
        eyes=int(node["reactions"]["totalCount"]),
        node_id=str(node["id"]),
    )
