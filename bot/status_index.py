"""The status index: a bot-owned issue listing active incidents and their history.

It is what users watch (Packit's status page; on GitLab, which has no pinning, the
equivalent of the pinned notice), and it lets a tick with nothing due cost one listing: each
entry says when its incident next needs the bot, so the tick reads a ledger only when
something is due or the issue changed since the bot last looked. Pure functions only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.incident import Incident
from bot.policy import Policy
from bot.records import Issue
from bot.schedule import next_due
from bot.watch.state import WatchState

HISTORY = 30  # resolved incidents kept on the status page
# Incidents listed by name on the status issue, most severe and newest first; the index keeps
# every one (2,000 fit: GitHub's issue body holds 65,536 characters), the page says how many more.
SHOWN = 50
HEARTBEAT = timedelta(minutes=30)  # the index records the tick at least this often
DONE_KEPT = 200  # keys of global actions kept: the newest, by the time each names
HOOK_CHECK = timedelta(days=1)  # how often the tick asks the forge whether its webhook still works


@dataclass(frozen=True)
class Entry:
    severity: str
    status: str
    title: str
    url: str
    declared_at: datetime
    next_due: datetime | None
    seen: datetime  # the issue's updated_at when the bot last read its ledger
    eyes: int | None = None
    outage_issue: int | None = None
    outage_url: str | None = None
    outage_eyes: int | None = None  # 👀 on the outage issue when the bot last looked
    # The source issue was closed by someone who may not resolve: the incident goes on, the
    # issue is no longer in the listing, and the tick reads it only when something is due.
    source_closed: bool = False
    confidential: bool = False  # a confidential kind's incident: kept in the private index only


@dataclass(frozen=True)
class Index:
    entries: dict[int, Entry] = field(default_factory=dict)
    history: tuple[dict[str, Any], ...] = ()
    last_tick: datetime | None = None
    done: frozenset[str] = frozenset()  # keys of global actions (handoff notices)
    # Resolved incidents whose issue stays open with its severity label: the issue's
    # updated_at when the bot last read it, so quiet ticks skip it until someone touches it.
    quiet: dict[int, datetime] = field(default_factory=dict)
    hooks_checked: datetime | None = None
    hook_problem: str | None = None  # what the forge said is wrong with the webhook, shown to readers
    labels_painted: datetime | None = None  # when the tick last gave the bot's labels their colours
    has_private: bool = False  # a confidential status issue exists too (the tick must find it)
    # Where there is no confidential issue to index them in (GitHub): when the earliest
    # confidential incident next needs the bot. A time only, never a number or a name: the tick
    # then lists the confidential kinds' issues.
    private_due: datetime | None = None
    # The last gap in the schedule (from, to): the status issue says so for a week.
    gap: tuple[datetime, datetime] | None = None
    # Probes and upstreams that are not quiet ("probes:api" -> counts, the incident declared):
    # the forge is their only store between ticks (bot.watch).
    watch: dict[str, WatchState] = field(default_factory=dict)

    def to_data(self, shown: frozenset[int] = frozenset()) -> dict[str, Any]:
        """Compact: one row an incident, times as seconds from a base, names and links only for
        the incidents the page lists (`shown`), so thousands fit in an issue body."""
        base = int(min((e.declared_at for e in self.entries.values()), default=datetime(2026, 1, 1, tzinfo=timezone.utc)).timestamp())
        rows = [_row(n, e, base, with_names=n in shown) for n, e in sorted(self.entries.items())]
        return {
            "v": 2,
            "base": base,
            "rows": rows,
            "history": list(self.history),
            "last_tick": self.last_tick,
            "done": newest_keys(self.done, DONE_KEPT),
            "quiet": {str(n): t for n, t in self.quiet.items()},
            "hooks_checked": self.hooks_checked,
            "hook_problem": self.hook_problem,
            "labels_painted": self.labels_painted,
            "has_private": self.has_private,
            "private_due": self.private_due,
            "gap": list(self.gap) if self.gap else None,
            "watch": {k: s.to_data() for k, s in sorted(self.watch.items())},
        }

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> Index:
        if not data:
            return cls()
        if data.get("v") == 2:
            entries = {row[0]: _entry(row, data["base"]) for row in data.get("rows", ())}
        else:  # written by an earlier version
            entries = {int(n): Entry(**e) for n, e in data.get("entries", {}).items()}
        return cls(entries=entries, history=tuple(data.get("history", ())), last_tick=data.get("last_tick"),
                   done=frozenset(data.get("done", ())), quiet={int(n): t for n, t in data.get("quiet", {}).items()},
                   hooks_checked=data.get("hooks_checked"), hook_problem=data.get("hook_problem"),
                   labels_painted=data.get("labels_painted"), has_private=bool(data.get("has_private")),
                   private_due=data.get("private_due"), gap=tuple(data["gap"]) if data.get("gap") else None,  # type: ignore[arg-type]
                   watch={k: WatchState.from_data(row) for k, row in (data.get("watch") or {}).items()})


_ROW = ("severity", "status", "declared_at", "next_due", "seen", "eyes", "outage_issue", "outage_eyes", "flags")


_STAMP = re.compile(r"\d{8}T\d{4}")


def newest_keys(keys: frozenset[str], keep: int) -> list[str]:
    """The `keep` newest keys, by the time each names (handoff:20261109T1200:alerts): a key that
    is still needed is recent. (Sorted by name alone, every `gap:` and `drill-reminder:` key
    would go before the `handoff:` keys once there are more than `keep`.)"""
    def when(key: str) -> str:
        found = _STAMP.search(key)
        return found.group(0) if found else ""
    return sorted(sorted(keys, key=lambda k: (when(k), k))[-keep:])


def _seconds(moment: datetime | None, base: int, *, up: bool = False) -> int | None:
    if moment is None:
        return None
    stamp = moment.timestamp()
    return (math.ceil(stamp) if up else math.floor(stamp)) - base


def _moment(offset: int | None, base: int) -> datetime | None:
    return None if offset is None else datetime.fromtimestamp(base + offset, tz=timezone.utc)


def _row(number: int, e: Entry, base: int, *, with_names: bool) -> list[Any]:
    flags = (1 if e.source_closed else 0) | (2 if e.confidential else 0)
    row: list[Any] = [number, e.severity, e.status, _seconds(e.declared_at, base), _seconds(e.next_due, base),
                      _seconds(e.seen, base, up=True), e.eyes, e.outage_issue, e.outage_eyes, flags]  # seen: never earlier
    if with_names:
        row += [e.title, e.url, e.outage_url]
    return row


def _entry(row: list[Any], base: int) -> Entry:
    _number, severity, status, declared, due, seen, eyes, outage, outage_eyes, flags, *names = row
    title, url, outage_url = names if names else ("", "", None)
    declared_at, seen_at = _moment(declared, base), _moment(seen, base)
    assert declared_at is not None and seen_at is not None
    return Entry(severity=severity, status=status, title=title, url=url, declared_at=declared_at, next_due=_moment(due, base),
                 seen=seen_at, eyes=eyes, outage_issue=outage, outage_url=outage_url, outage_eyes=outage_eyes,
                 source_closed=bool(flags & 1), confidential=bool(flags & 2))


def shown(index: Index, policy: Policy) -> list[tuple[int, Entry]]:
    """The incidents the status page names: most severe first, then newest, at most SHOWN."""
    rank = {name: i for i, name in enumerate(policy.severities)}
    ordered = sorted(index.entries.items(), key=lambda kv: (rank.get(kv[1].severity, 99), -kv[1].declared_at.timestamp()))
    return ordered[:SHOWN]


def split(index: Index) -> tuple[Index, Index]:
    """(public, private): a confidential incident's entry, quiet mark and history stay out of
    the public status issue. The private part is saved where only members can read it (a
    confidential issue), or not at all where the forge has none; global bookkeeping (the last
    tick, handoffs, the webhook check) is public."""
    secret = {n for n, e in index.entries.items() if e.confidential} | {h["source"] for h in index.history if h.get("confidential")}
    public = replace(index, entries={n: e for n, e in index.entries.items() if not e.confidential},
                     history=tuple(h for h in index.history if not h.get("confidential")),
                     quiet={n: t for n, t in index.quiet.items() if n not in secret})
    private = Index(entries={n: e for n, e in index.entries.items() if e.confidential},
                    history=tuple(h for h in index.history if h.get("confidential")),
                    quiet={n: t for n, t in index.quiet.items() if n in secret})
    return public, private


def merge(public: Index, private: Index) -> Index:
    """The index a tick works with: the public one plus what the private one holds."""
    history = tuple(sorted(public.history + private.history, key=lambda h: h["resolved_at"] or h["declared_at"], reverse=True))
    return replace(public, entries={**public.entries, **private.entries}, history=history,
                   quiet={**public.quiet, **private.quiet})




def needs_look(entry: Entry | None, issue: Issue, severity: str | None, now: datetime, *,
               outage: Issue | None = None, quiet_since: datetime | None = None) -> bool:
    """Must the tick read this issue's ledger? Only when something may have changed or is due.

    `outage` is the incident's outage issue as listed (its 👀 count acknowledges too);
    `quiet_since` is set for an incident already resolved whose issue kept its label."""
    if entry is None:
        return quiet_since is None or issue.updated_at > quiet_since
    if entry.next_due is not None and entry.next_due <= now:
        return True
    if issue.updated_at > entry.seen or severity != entry.severity:
        return True
    if entry.status != "active":
        return False
    if issue.eyes is not None and issue.eyes > (entry.eyes or 0):
        return True
    return outage is not None and outage.eyes is not None and outage.eyes > (entry.outage_eyes or 0)


def confidential(incident: Incident, policy: Policy) -> bool:
    kind = policy.kinds.get(incident.kind) if incident.kind else None
    return bool(kind and kind.confidential)


def entry_for(incident: Incident, issue: Issue, policy: Policy, now: datetime, outage: Issue | None = None) -> Entry:
    return Entry(severity=incident.severity, status=incident.status, title=incident.title, url=issue.url,
                 confidential=confidential(incident, policy),
                 declared_at=incident.declared_at, next_due=next_due(incident, policy, now),
                 seen=max(issue.updated_at, now), eyes=issue.eyes,
                 outage_issue=incident.outage_issue, outage_url=incident.outage_url,
                 outage_eyes=outage.eyes if outage is not None else None)


def hooks_check_due(index: Index, now: datetime, *, lost_event: bool) -> bool:
    """Ask the forge about its webhook once a day, and at once when the tick had to declare an
    incident whose event never arrived (the likeliest cause is a disabled hook)."""
    return lost_event or index.hooks_checked is None or now - index.hooks_checked >= HOOK_CHECK


def record_resolved(index: Index, number: int, incident: Incident, *, still_labeled: datetime | None = None,
                    secret: bool = False) -> Index:
    """Move an incident to the history. `still_labeled`: the issue stays open with its
    severity label (resolved by /resolve or by closing the outage issue); remember when the
    bot saw it, so later ticks skip it until it changes."""
    entries = dict(index.entries)
    entries.pop(number, None)
    quiet = dict(index.quiet)
    if still_labeled is not None:
        quiet[number] = still_labeled
    index = replace(index, quiet=quiet)
    item = {"source": number, "title": incident.title, "severity": incident.severity, "status": incident.status,
            "declared_at": incident.declared_at, "resolved_at": incident.resolved_at,
            "resolution": incident.resolution, "outage_url": incident.outage_url or ""}
    if secret:
        item["confidential"] = True
    if incident.postmortem_issue is not None:
        item["postmortem"] = incident.postmortem_issue
        if incident.postmortem_due is not None:
            item["postmortem_due"] = incident.postmortem_due  # dropped once the tick reminded
    history = tuple(h for h in index.history if not (h["source"] == number and h["declared_at"] == incident.declared_at))
    return replace(index, entries=entries, history=((item,) + history)[:HISTORY])


def postmortems_due(index: Index, now: datetime) -> list[tuple[int, int]]:
    """(source, post-mortem issue) of resolved incidents whose post-mortem is due and was not
    yet looked at: the tick reminds on each one still open, once."""
    return [(h["source"], h["postmortem"]) for h in index.history
            if h.get("postmortem") and h.get("postmortem_due") is not None and h["postmortem_due"] <= now]


def postmortem_looked_at(index: Index, source: int) -> Index:
    """The post-mortem of `source` was reminded (or found closed): never again."""
    history = tuple({k: v for k, v in h.items() if k != "postmortem_due"} if h["source"] == source else h for h in index.history)
    return replace(index, history=history)
