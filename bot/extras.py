"""The optional features and the extra that installs each: `pip install 'outage-bot[gitlab]'`.

The base install carries what every run needs (the policy, the templates, the local forge and
its demo). Each forge's and chat service's client library comes with an extra, and its module
is imported only when a run uses it, inside `needs(...)`: a missing package then reads as one
line naming the extra to install (exit 1, as for any configuration error), not a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bot.errors import UserError

# extra -> the distributions it installs, as pyproject.toml lists them (tests/test_extras.py
# checks the two agree)
EXTRAS: dict[str, tuple[str, ...]] = {
    "github": ("PyGithub", "requests"),
    "gitlab": ("python-gitlab", "requests"),
    "slack": ("slack_sdk", "requests"),
    "apprise": ("apprise",),
    "ical": ("icalendar",),
    "status-page": ("feedgen",),
    "report": ("matplotlib",),
    "watch": ("httpx",),
}


class MissingExtra(UserError):
    """A feature the run uses needs a package that is not installed; names the extra (exit 1)."""

    def __init__(self, extra: str, feature: str, module: str) -> None:
        self.extra = extra
        self.module = module
        super().__init__(f"{feature} needs the Python module {module!r}, which is not installed: "
                         f"pip install 'outage-bot[{extra}]'")


@contextmanager
def needs(extra: str, feature: str) -> Iterator[None]:
    """Imports inside this block belong to `extra`; `feature` says what the run wanted, for the
    message (e.g. "--forge gitlab"). A module of our own that is missing stays a crash."""
    try:
        yield
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").partition(".")[0]
        if not missing or missing == "bot":
            raise
        raise MissingExtra(extra, feature, missing) from None
