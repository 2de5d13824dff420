"""GitLab: the Forge on python-gitlab, and webhook bodies delivered through pipeline triggers."""

from bot.adapters.gitlab.environment import forge_from_env
from bot.adapters.gitlab.events import event_from_payload, read_trigger
from bot.adapters.gitlab.forge import GitLabForge

__all__ = ["GitLabForge", "event_from_payload", "forge_from_env", "read_trigger"]
