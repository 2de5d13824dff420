"""The GitHub forge: GitHub Actions' events in, PyGithub (REST) and GraphQL (pinning) out.

    forge_from_env(environ) -> GitHubForge
    read_trigger(environ, forge, event_path) -> Event | None
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.adapters.github.events import event_from_payload, read_trigger
from bot.adapters.github.forge import DEFAULT_API_URL, DEFAULT_GRAPHQL_URL, GitHubForge
from bot.adapters.github.retry import FAST, RetrySettings
from bot.config import service_url
from bot.errors import MissingCredential, UserError


def forge_from_env(environ: Mapping[str, str], *, retry: RetrySettings | None = None) -> GitHubForge:
    """The repository GitHub Actions runs for. An empty variable counts as unset: Actions
    passes an undefined secret as "".

    OUTAGE_BOT_GITHUB_LOGIN names the account the token writes as, for an installation token
    that is not GitHub Actions' own (default: github-actions[bot] for `ghs_` tokens, else
    GET /user).
    OUTAGE_BOT_GITHUB_RETRY=fast drops PyGithub's pause between writes and shrinks the retry
    waits: for tests against a local server, never for GitHub itself."""
    token = environ.get("GITHUB_TOKEN", "")
    if not token:
        raise MissingCredential(
            "GITHUB_TOKEN", "pass it to the step: `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}`"
        )
    repository = environ.get("GITHUB_REPOSITORY", "")
    if not repository:
        raise UserError("GITHUB_REPOSITORY is not set (expected: owner/name; GitHub Actions sets it)")
    return GitHubForge(
        token,
        repository,
        api_url=service_url("GITHUB_API_URL", environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
                            "https://api.github.com or https://HOST/api/v3"),
        graphql_url=service_url("GITHUB_GRAPHQL_URL", environ.get("GITHUB_GRAPHQL_URL") or DEFAULT_GRAPHQL_URL,
                                "https://api.github.com/graphql or https://HOST/api/graphql"),
        bot_login=environ.get("OUTAGE_BOT_GITHUB_LOGIN") or None,
        retry=retry or (FAST if environ.get("OUTAGE_BOT_GITHUB_RETRY") == "fast" else RetrySettings()),
    )


__all__ = ["GitHubForge", "RetrySettings", "event_from_payload", "forge_from_env", "read_trigger"]
