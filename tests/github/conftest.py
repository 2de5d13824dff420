"""Fixtures for the GitHub adapter: a fake GitHub on 127.0.0.1 and a forge pointed at it.

No __init__.py in this folder, on purpose: as a package it would be importable as `github`
and could shadow PyGithub.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_github import FakeGitHub
from github_helpers import make_forge

from bot.adapters.github import GitHubForge


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server


@pytest.fixture
def forge(fake: FakeGitHub) -> GitHubForge:
    return make_forge(fake)
