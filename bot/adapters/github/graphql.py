"""The three GraphQL calls REST cannot make: pin, unpin, list pinned issues.

Pinning has no REST endpoint (https://docs.github.com/en/graphql/reference/mutations#pinissue).
GraphQL answers HTTP 200 even when a mutation fails, with an `errors` list beside `data`.
"""

from __future__ import annotations

import re
from typing import Any

# The fields of an `Issue` that bot.records.Issue needs (see convert.issue_from_graphql).
ISSUE_FIELDS = """
      id
      number
      title
      body
      state
      url
      createdAt
      updatedAt
      author { login }
      labels(first: 100) { nodes { name } }
      reactions(content: EYES) { totalCount }
"""

# GitHub allows 3 pinned issues; ask for more so a raised limit is still listed whole.
PINNED_ISSUES = (
    """
query PinnedIssues($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) {
    pinnedIssues(first: 10) {
      totalCount
      nodes {
        issue {"""
    + ISSUE_FIELDS
    + """        }
      }
    }
  }
}
"""
)

PIN_ISSUE = """
mutation PinIssue($issueId: ID!) {
  pinIssue(input: {issueId: $issueId}) { issue { id number } }
}
"""

UNPIN_ISSUE = """
mutation UnpinIssue($issueId: ID!) {
  unpinIssue(input: {issueId: $issueId}) { issue { id number } }
}
"""

PIN_LIMIT = 3

# GitHub documents no error text for a fourth pin. The only wording found (a test double in a
# public repository, not GitHub's documentation) is "You can't pin more than 3 issues to a
# repository"; so the text is matched loosely, and when a pin fails for a reason the text does
# not explain, the forge counts the pinned issues before deciding (see forge.pin_issue).
_LIMIT_TEXT = re.compile(r"pin(ned)?\b.*\b(more than|maximum|max\b|limit|at most|already has)", re.IGNORECASE)


def error_messages(response: dict[str, Any]) -> list[str]:
    return [str(error.get("message", "")) for error in response.get("errors") or []]


def says_pin_limit(messages: list[str]) -> bool:
    return any(_LIMIT_TEXT.search(message) for message in messages)
