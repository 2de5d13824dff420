"""Builders for core tests: a policy, a local forge with a simulated clock, events."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from bot.adapters.local import LocalChat, LocalForge
from bot.config import load
from bot.events import Event, EventKind
from bot.records import Access, Issue
from bot.resources import default_policy_path
from bot.runner import Runner

T0 = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)  # Monday 09:00 New York


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Sandbox:
    """The default policy on a fresh local forge and chat."""

    def __init__(self, tmp: Path, policy_path: Path | None = None) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.policy, self.renderer = load(policy_path or default_policy_path())
        self.clock = Clock()
        self.db = tmp / "forge.sqlite"
        self.forge = LocalForge(self.db, clock=self.clock)
        self.chat = LocalChat(self.db, clock=self.clock)
        self.forge.add_member("maintainer", Access.MAINTAIN)

    def runner(self, forge: object | None = None, chat: object | None = None) -> Runner:
        return Runner(forge or self.forge, {c: chat or self.chat for c in self.policy.channels}, self.policy, self.renderer,  # type: ignore[arg-type]
                      now=self.clock.now, sleep=lambda _: None)

    def open_issue(self, title: str = "pipx install fails", labels: tuple[str, ...] = ("priority::highest",), body: str = "") -> Issue:
        self.forge.actor = "reporter"
        issue = self.forge.create_issue(title=title, body=body, labels=list(labels))
        self.forge.actor = self.forge.bot_login
        return issue

    def event(self, kind: EventKind, number: int, **kw: object) -> Event:
        issue = self.forge.get_issue(number)
        return Event(kind=kind, issue=issue, actor=str(kw.pop("actor", "reporter")), at=self.clock.now, **kw)  # type: ignore[arg-type]

    def comment(self, number: int, body: str, actor: str) -> Event:
        self.forge.actor = actor
        comment = self.forge.post_comment(number, body)
        self.forge.actor = self.forge.bot_login
        return self.event(EventKind.COMMENTED, number, actor=actor, comment=comment)

    def state(self) -> dict[str, object]:
        """Everything observable, ids and times left out: for comparing end states."""
        import re

        strip = lambda s: re.sub(r"<!-- outage-bot:ledger v1 [^ ]+ -->", "<ledger>", s)
        issues = [(r[0], r[1], r[3], r[4], r[9]) for r in self.forge.db.execute("select * from issues order by number")]
        comments = [(i, a, strip(b)) for i, a, b in self.forge.all_comments()]
        chat = [(m["channel"], m["thread"] is None, m["headline"], m["status"], m["reactions"], m["key"]) for m in self.chat.messages()]
        return {"issues": issues, "comments": comments, "chat": chat}
