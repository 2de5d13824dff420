"""Helpers shared by the GitHub adapter's tests and benchmarks/bench_github.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fake_github import FakeGitHub

from bot.adapters.github import GitHubForge
from bot.adapters.github.retry import FAST

FIXTURES = Path(__file__).parents[1] / "fixtures" / "github"
WEBHOOKS = FIXTURES / "webhooks"


def make_forge(fake: FakeGitHub) -> GitHubForge:
    return GitHubForge(fake.token, fake.full_name, api_url=fake.base_url, graphql_url=fake.graphql_url, retry=FAST)


def payload(name: str) -> dict[str, Any]:
    """A webhook example from tests/fixtures/github/webhooks ("issues.labeled", "variants/...")."""
    return json.loads((WEBHOOKS / f"{name}.json").read_text(encoding="utf-8"))
