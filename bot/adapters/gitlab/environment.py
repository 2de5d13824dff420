"""The GitLab forge from GitLab CI's predefined variables (and GITLAB_TOKEN)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.adapters.gitlab.forge import GitLabForge
from bot.config import service_url
from bot.errors import MissingCredential


def instance_url(api_url: str) -> str:
    """CI_API_V4_URL is the API base (https://gitlab.example.com/api/v4, or under a relative
    URL root); python-gitlab wants the instance and adds /api/v4 itself."""
    url = service_url("CI_API_V4_URL", api_url, "https://gitlab.com/api/v4").rstrip("/")
    return url.removesuffix("/api/v4")


def forge_from_env(environ: Mapping[str, str]) -> GitLabForge:
    api_url = environ.get("CI_API_V4_URL", "").strip()
    if not api_url:
        raise MissingCredential("CI_API_V4_URL", "the GitLab API base, e.g. https://gitlab.com/api/v4 (GitLab CI sets it)")
    project_id = environ.get("CI_PROJECT_ID", "").strip()
    project_path = environ.get("CI_PROJECT_PATH", "").strip()
    if not project_id and not project_path:
        raise MissingCredential("CI_PROJECT_ID", "or CI_PROJECT_PATH: the project whose issues the bot handles")
    token = environ.get("GITLAB_TOKEN", "").strip()
    if not token:
        raise MissingCredential(
            "GITLAB_TOKEN",
            "a project access token with the api scope and the Reporter role, saved as a masked CI/CD variable",
        )
    # The token's username (a project access token's bot user, project_<id>_bot_<hash>):
    # optional, it saves one request per run.
    login = environ.get("OUTAGE_BOT_GITLAB_LOGIN", "").strip() or None
    return GitLabForge(instance_url(api_url), token, project_id or project_path,
                       project_path=project_path or None, bot_login=login)
