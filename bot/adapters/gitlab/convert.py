"""GitLab's JSON (REST API v4, GraphQL) to the forge-neutral records.

Shapes: https://docs.gitlab.com/api/issues/ (single issue), /api/notes/, /api/emoji_reactions/,
/api/resource_label_events/, /api/project_members/ (examples copied to tests/fixtures/gitlab/api).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.adapters.gitlab.timestamps import parse_time
from bot.records import Access, Comment, Issue, Reaction

# GitLab names emoji by their gemojione name; the core speaks GitHub's reaction names.
_EMOJI = {"thumbsup": "+1", "thumbsdown": "-1"}


def emoji_name(name: object) -> str:
    text = str(name or "").strip(":")
    return _EMOJI.get(text, text)


def state_of(state: object) -> str:
    """GitLab says "opened" (REST, webhooks) or "opened"/"locked" (GraphQL); the core says "open"."""
    return "closed" if str(state).lower() == "closed" else "open"


def label_names(labels: object) -> tuple[str, ...]:
    """Labels as names: REST lists strings (or objects with `with_labels_details`), webhooks
    list objects with `title`, GraphQL a connection of `{title}` nodes."""
    if isinstance(labels, Mapping):
        labels = labels.get("nodes") or []
    names: list[str] = []
    for label in labels if isinstance(labels, list) else []:
        if isinstance(label, str):
            names.append(label)
        elif isinstance(label, Mapping):
            name = label.get("title") or label.get("name")
            if name:
                names.append(str(name))
    return tuple(dict.fromkeys(names))


def issue_from_rest(data: Mapping[str, Any]) -> Issue:
    return Issue(
        number=int(data["iid"]),
        title=str(data.get("title") or ""),
        body=str(data.get("description") or ""),
        labels=label_names(data.get("labels")),
        state=state_of(data.get("state")),
        url=str(data.get("web_url") or ""),
        author=str((data.get("author") or {}).get("username") or ""),
        created_at=parse_time(data["created_at"]),
        updated_at=parse_time(data.get("updated_at") or data["created_at"]),
        confidential=bool(data.get("confidential")),
        # Listings carry only thumbs up/down counters (`upvotes`/`downvotes`), never 👀: the
        # emoji webhook tells about acknowledgements instead.
        eyes=None,
        closed_by=str((data.get("closed_by") or {}).get("username") or "") or None,
    )


def issue_from_graphql(node: Mapping[str, Any]) -> Issue:
    return Issue(
        number=int(node["iid"]),  # GraphQL's iid is a String
        title=str(node.get("title") or ""),
        body=str(node.get("description") or ""),
        labels=label_names(node.get("labels")),
        state=state_of(node.get("state")),
        url=str(node.get("webUrl") or ""),
        author=str((node.get("author") or {}).get("username") or ""),
        created_at=parse_time(node["createdAt"]),
        updated_at=parse_time(node.get("updatedAt") or node["createdAt"]),
        confidential=bool(node.get("confidential")),
        eyes=None,
    )


def comment_from_note(data: Mapping[str, Any]) -> Comment:
    return Comment(
        id=int(data["id"]),
        author=str((data.get("author") or {}).get("username") or ""),
        body=str(data.get("body") or ""),
        created_at=parse_time(data["created_at"]),
    )


def reaction_from_award(data: Mapping[str, Any]) -> Reaction:
    created = data.get("created_at")
    return Reaction(
        user=str((data.get("user") or {}).get("username") or ""),
        emoji=emoji_name(data.get("name")),
        created_at=parse_time(created) if created else None,
    )


def access_from_level(level: object) -> Access:
    """GitLab access levels (docs: api/project_members, "valid access levels"): 5 minimal,
    10 guest, 15 planner, 20 reporter, 30 developer, 40 maintainer, 50 owner. Planner can
    manage issues but is below Reporter, which the contract names as the bar: it maps to READ."""
    try:
        value = int(level)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return Access.NONE
    for floor, access in ((50, Access.ADMIN), (40, Access.MAINTAIN), (30, Access.WRITE), (20, Access.TRIAGE), (10, Access.READ)):
        if value >= floor:
            return access
    return Access.NONE
