"""An incident's timeline, from what the forge holds. Pure: no I/O, no clock.

The record (`Record`) is what a reader of the forge can see: the ledger, the bot's comments
with their key markers and creation times, the people's command comments, the reactions on
the incident's issues, who added which label when, and the issues themselves. Every bot
action has an idempotency key (bot.planner: `<source>:g<generation>:<what>[:<detail>]`):

- a comment carries `<!-- outage-bot:key=K -->` for each notice in it, and a tick's notice
  `<!-- outage-bot:intent=K -->` for the rest of its plan (the chat replies it sent): the
  comment's creation time is when each of those happened;
- the ledger's `done` says which chat messages went out; a Slack reference holds its own time
  (its `ts`), other chat services' are timed by the comment of the same run;
- the ledger's incident holds the exact times of the declaration, the severity changes, the
  acknowledgement and the resolution of the current generation; earlier generations (before
  a reopen) are timed by their comments.

`build_timeline` turns that into `Entry`s in order; `timeline_lines` and `timeline_data` show
them in the policy's zone and UTC. bot.timeline_forge reads the record through a Forge.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from bot.durations import humanize
from bot.incident import Incident
from bot.ledger import Ledger, intents_in, keys_in
from bot.planner import command_in, handoff_channels
from bot.policy import Policy
from bot.records import ChatRef, Comment, Issue, Reaction
from bot.render import _when
from bot.text import one_line

BOT = "outage-bot"  # `who` of what the bot did, whatever login its token has

# The kinds of entry, in the order they are listed when they share a minute.
KINDS = (
    "declared", "reopened", "tagged", "outage_issue_opened", "alerted", "severity_changed", "handoff",
    "escalated", "reminded", "breached", "late_tick", "refused", "acknowledged", "closed_not_resolved",
    "advisory", "resolved", "false_positive",
)
_RANK = {kind: i for i, kind in enumerate(KINDS)}
# Evidence of an acknowledgement or resolution counts within this of the time the ledger holds
# (a tick notices a 👀 up to a tick later; the comment and its event carry the same time).
_NEAR = timedelta(minutes=2)
_SECTION = "\n\n---\n\n"  # between the notices of one tick comment (bot.executor._post_notices)
_MARKER = re.compile(r"<!-- outage-bot:[^>]*-->")
_MENTION = re.compile(r"(?<![\w@/`])@([A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)")
_ACK_HOW = re.compile(r"\*\*Acknowledged\*\* by \S+ \(([^)]+)\)")
_RESOLVED_BY = re.compile(r"\*\*(Resolved|False positive)\*\* by (\S+?),")
_SEVERITY_LABEL = re.compile(r"\(`([^`]+)`\)")


@dataclass(frozen=True)
class Entry:
    """One thing that happened to an incident."""

    at: datetime  # aware, UTC
    kind: str  # one of KINDS
    what: str  # a short text, no user text and no @mention in it
    who: str  # a forge login, "outage-bot", or "" when the forge does not say
    how: str  # label / form / cli / comment / command / 👀 / close / issue / tick / chat
    issue: int | None = None  # where it shows on the forge
    channels: tuple[str, ...] = ()  # the policy's chat channels told about it
    note: str = ""  # user text (a resolution note): shown escaped, or not at all when confidential
    generation: int = 1


@dataclass(frozen=True)
class LabelAdd:
    """The forge's last record of `label` being added to `issue` (Forge.label_added_by)."""

    issue: int
    label: str
    at: datetime
    by: str


@dataclass(frozen=True)
class Record:
    """What the forge holds about one incident."""

    ledger: Ledger
    source: Issue
    comments: tuple[Comment, ...]  # the source issue's, oldest first
    outage: Issue | None = None
    outage_comments: tuple[Comment, ...] = ()
    reactions: tuple[tuple[int, Reaction], ...] = ()  # (issue number, reaction)
    label_adds: tuple[LabelAdd, ...] = ()
    bot_login: str | None = BOT  # None: unknown, and a comment with the bot's markers is the bot's


def wanted_labels(ledger: Ledger, source: Issue, policy: Policy) -> list[tuple[int, str]]:
    """The (issue, label) pairs whose last addition the timeline uses: the severity labels of
    every severity the incident had and those on the issue now, its kind's, and the
    acknowledged label (on the source and outage issues). The shell asks the forge for each."""
    inc = ledger.incident
    severities = {s for s, _ in inc.severity_history} | {inc.severity}
    severities |= {s for s in policy.severities if set(policy.severities[s].labels) & set(source.labels)}
    labels = [lb for s in policy.severities if s in severities for lb in policy.severities[s].labels]
    if inc.kind and inc.kind in policy.kinds:
        labels += policy.kinds[inc.kind].labels
    pairs = [(inc.source, lb) for lb in dict.fromkeys(labels)]
    pairs.append((inc.source, policy.labels.acknowledged))
    if inc.outage_issue is not None:
        pairs.append((inc.outage_issue, policy.labels.acknowledged))
    return pairs


def build_timeline(record: Record, policy: Policy, *, now: datetime) -> list[Entry]:
    """The incident's timeline, oldest first. `now` ends the on-call handoffs of an incident
    still open."""
    return _Builder(record, policy, now).build()


class _Builder:
    def __init__(self, record: Record, policy: Policy, now: datetime) -> None:
        self.record = record
        self.policy = policy
        self.now = _utc(now)
        self.incident: Incident = record.ledger.incident
        self.src = self.incident.source
        bot = (record.bot_login or BOT).lower()
        self.is_bot = lambda login: login.lower() in (bot, BOT)
        # key -> (when, which issue, the text of its notice): the bot's comments' key markers
        self.keyed: dict[str, tuple[datetime, int, str]] = {}
        self.intended: dict[str, datetime] = {}  # key -> when: their intent markers (same run)
        self.people_comments: list[tuple[int, Comment]] = []
        for number, comments in ((self.src, record.comments), (self.incident.outage_issue, record.outage_comments)):
            for comment in comments:
                if number is None:
                    continue
                if self.is_bot(comment.author) or record.bot_login is None and _MARKER.search(comment.body):
                    self._index(number, comment)
                else:
                    self.people_comments.append((number, comment))
        self.done = record.ledger.done | set(self.keyed)
        self.entries: list[Entry] = []

    def _index(self, number: int, comment: Comment) -> None:
        keys = keys_in(comment.body)
        visible = _MARKER.sub("", comment.body).strip()
        sections = visible.split(_SECTION) if len(keys) > 1 else [visible]
        if len(sections) != len(keys):
            sections = [visible] * len(keys)
        at = _utc(comment.created_at)
        for key, text in zip(keys, sections):
            self.keyed.setdefault(key, (at, number, text))
        for key in intents_in(comment.body):
            self.intended.setdefault(key, at)

    # -- helpers -----------------------------------------------------------------------------------
    def add(self, at: datetime, kind: str, what: str, who: str, how: str, *, issue: int | None = None,
            channels: Iterable[str] = (), note: str = "", generation: int = 1) -> Entry:
        entry = Entry(_utc(at), kind, what, who, how, issue, tuple(channels), note, generation)
        self.entries.append(entry)
        return entry

    def generations(self) -> list[int]:
        found = {int(m.group(1)) for k in self.done if (m := re.match(rf"{self.src}:g(\d+):", k))}
        found.add(self.incident.generation)
        return sorted(found)

    def chat_of(self, parent: str, fallback: datetime) -> tuple[tuple[str, ...], dict[str, datetime]]:
        """The channels told by the chat messages of the action `parent` (`parent:chat:C`)."""
        channels: dict[str, datetime] = {}
        prefix = parent + ":chat:"
        for key in sorted(self.done):
            if not key.startswith(prefix) or ":" in key[len(prefix):]:
                continue  # `:root` edits and reactions are part of the same update
            channels[key[len(prefix):]] = self.chat_time(key, fallback)
        return tuple(channels), channels

    def chat_time(self, key: str, fallback: datetime) -> datetime:
        ref = self.record.ledger.refs.get(key, "")
        if ref.startswith("slack|"):
            try:
                return datetime.fromtimestamp(float(ChatRef.decode(ref).ts), timezone.utc)
            except ValueError:
                pass
        if key in self.intended:
            return self.intended[key]
        return fallback

    def label_add(self, issue: int, labels: Sequence[str], near: datetime | None = None) -> LabelAdd | None:
        """The last addition of any of `labels`; with `near`, only one at about that time."""
        adds = [a for a in self.record.label_adds if a.issue == issue and a.label in labels]
        if near is not None:
            adds = [a for a in adds if abs(_utc(a.at) - _utc(near)) <= _NEAR]
        return max(adds, key=lambda a: _utc(a.at)) if adds else None

    def mentions(self, text: str) -> str:
        names = list(dict.fromkeys(_MENTION.findall(text)))
        return ", ".join(names)

    def channel_names(self, channels: Iterable[str]) -> str:
        out = []
        for cid in channels:
            config = self.policy.channels.get(cid)
            out.append(f"{cid} ({config.slack})" if config and config.slack else cid)
        return ", ".join(out)

    def person_name(self, pid: str) -> str:
        person = self.policy.people.get(pid)
        return (person.name if person else None) or pid

    # -- building ----------------------------------------------------------------------------------
    def build(self) -> list[Entry]:
        windows: list[tuple[datetime, datetime]] = []
        for gen in self.generations():
            start, end = self.generation(gen)
            if start is not None:
                windows.append((start, end or self.now))
        if self.policy.oncall is not None:
            self.handoffs(windows)
        order = {id(e): i for i, e in enumerate(self.entries)}
        return sorted(self.entries, key=lambda e: (e.at, _RANK.get(e.kind, len(KINDS)), order[id(e)]))

    def generation(self, gen: int) -> tuple[datetime | None, datetime | None]:
        """The entries of one generation; its start and (if it ended) its end."""
        p = f"{self.src}:g{gen}"
        current = gen == self.incident.generation
        inc = self.incident
        tag = self.keyed.get(f"{p}:tag")
        if tag is None and not current:
            return None, None
        start = _utc(inc.declared_at) if current else tag[0]  # type: ignore[index]
        bot_at = tag[0] if tag else start
        severity = inc.severity_history[0][0] if current and inc.severity_history else self._tag_severity(tag)
        self.declared(gen, start, severity, tag)
        self.opened_outage(p, gen, bot_at)
        self.alerted(p, gen, bot_at)
        self.severity_changes(p, gen, severity)
        self.timers(p, gen)
        self.acknowledged(p, gen)
        end = self.resolved(p, gen)
        self.others(p, gen)
        return start, end

    def _tag_severity(self, tag: tuple[datetime, int, str] | None) -> str:
        match = _SEVERITY_LABEL.search(tag[2]) if tag else None
        return (self.policy.severity_of([match.group(1)]) or "") if match else ""

    def declared(self, gen: int, at: datetime, severity: str, tag: tuple[datetime, int, str] | None) -> None:
        labels = self.policy.severities[severity].labels if severity in self.policy.severities else []
        label = next((lb for lb in labels if lb in self.record.source.labels), labels[0] if labels else "")
        added = self.label_add(self.src, labels, near=at)
        who, how = (added.by, "label") if added else ("", "label")
        if gen == 1 and f"{self.src}:form-label" in self.done:
            who, how = self.record.source.author, "form"
        elif added is None and abs(_utc(self.record.source.created_at) - at) <= _NEAR:
            who = self.record.source.author  # opened with the label on
        if who and self.is_bot(who):
            who, how = BOT, "cli"  # `outage-bot declare` opens the issue with the label as the bot
        kind_text = f", kind {self.incident.kind}" if self.incident.kind else ""
        if gen == 1:
            what = f"{severity or 'an'} incident declared" + (f" (label {label})" if label else "") + kind_text
            self.add(at, "declared", what.strip(), who, how, issue=self.src, generation=gen)
        else:
            what = f"incident reopened as {severity}" if severity else "incident reopened"
            self.add(at, "reopened", what, who, how if who else "label", issue=self.src, generation=gen)
        if tag is not None:
            people = self.mentions(tag[2])
            self.add(tag[0], "tagged", f"tagged {people}" if people else "nobody tagged for this severity", BOT, "comment",
                     issue=tag[1], generation=gen)

    def opened_outage(self, p: str, gen: int, fallback: datetime) -> None:
        key = f"{p}:outage-issue"
        if key not in self.done:
            return
        ref = self.record.ledger.refs.get(key, "")
        number = int(ref.split("|", 1)[0]) if ref.split("|", 1)[0].isdigit() else self.incident.outage_issue
        outage = self.record.outage
        at = _utc(outage.created_at) if outage is not None and outage.number == number else fallback
        pinned = self.record.ledger.refs.get(f"{p}:pin") == "pinned"
        what = f"outage issue #{number} opened" if number else "outage issue opened"
        self.add(at, "outage_issue_opened", what + (", pinned" if pinned else ""), BOT, "issue", issue=number, generation=gen)

    def alerted(self, p: str, gen: int, fallback: datetime) -> None:
        """Root alerts: `<p>:chat:<channel>`. Those a severity change added carry that comment's
        intent marker, and so its time."""
        prefix = f"{p}:chat:"
        for key in sorted(self.done):
            if key.startswith(prefix) and ":" not in key[len(prefix):]:
                channel = key[len(prefix):]
                at = self.chat_time(key, fallback)
                self.add(at, "alerted", f"alert posted in {self.channel_names([channel])}", BOT, "chat",
                         channels=(channel,), generation=gen)

    def severity_changes(self, p: str, gen: int, first: str) -> None:
        prefix = f"{p}:severity:"
        changes: list[tuple[datetime, str, str]] = []  # (at, new severity, key)
        exact: dict[str, datetime] = {}
        if gen == self.incident.generation:
            for new, moment in self.incident.severity_history[1:]:
                exact[f"{prefix}{new}:{moment:%Y%m%dT%H%M%S}"] = _utc(moment)
        for key in self.done:
            if key.startswith(prefix) and key.count(":") == prefix.count(":") + 1:
                new = key[len(prefix):].split(":", 1)[0]
                when = exact.get(key) or (self.keyed[key][0] if key in self.keyed else self.intended.get(key))
                if when is not None:
                    changes.append((when, new, key))
        old = first
        for at, new, key in sorted(changes):
            labels = self.policy.severities[new].labels if new in self.policy.severities else []
            added = self.label_add(self.src, labels, near=at)
            channels, _ = self.chat_of(key, at)
            self.add(at, "severity_changed", f"severity changed from {old or '?'} to {new}", added.by if added else "", "label",
                     issue=self.src, channels=channels, generation=gen)
            old = new

    def timers(self, p: str, gen: int) -> None:
        for key, (at, number, text) in sorted(self.keyed.items(), key=lambda kv: kv[1][0]):
            if not key.startswith(p + ":"):
                continue
            rest = key[len(p) + 1:].split(":")
            channels, _ = self.chat_of(key, at)
            # <what>:<severity>:<period start>:<detail>, the period naming the severity's timers
            if rest[0] == "escalate" and len(rest) == 4:
                people = self.mentions(text)
                step = int(rest[3]) + 1 if rest[3].isdigit() else 0
                what = f"escalated (step {step})" + (f": tagged {people}" if people else "")
                self.add(at, "escalated", what, BOT, "tick", issue=number, channels=channels, generation=gen)
            elif rest[0] == "remind" and len(rest) == 4 and rest[3].isdigit():
                left = humanize(timedelta(seconds=int(rest[3])))
                self.add(at, "reminded", f"reminder: {left} left to resolve", BOT, "tick", issue=number,
                         channels=channels, generation=gen)
            elif rest[0] == "breach" and len(rest) == 4:
                repeat = f" (notice {int(rest[3]) + 1})" if rest[3].isdigit() and int(rest[3]) > 0 else ""
                self.add(at, "breached", f"deadline passed{repeat}", BOT, "tick", issue=number, channels=channels, generation=gen)
            elif rest[0] == "stale":
                self.add(at, "late_tick", "the scheduled run had not run for a while: said so", BOT, "tick", issue=number,
                         generation=gen)

    def acknowledged(self, p: str, gen: int) -> None:
        key = f"{p}:ack"
        if key not in self.done:
            return
        noticed = self.keyed.get(key)
        inc = self.incident
        if gen == inc.generation and inc.acknowledged_at is not None:
            at, who = _utc(inc.acknowledged_at), inc.acknowledged_by or ""
        elif noticed is not None:
            at, who = noticed[0], self._ack_who(noticed[2])
        else:
            return
        how = self._ack_how(who, at, noticed[2] if noticed else "")
        channels, _ = self.chat_of(key, noticed[0] if noticed else at)
        self.add(at, "acknowledged", "acknowledged", who, how, issue=noticed[1] if noticed else self.src,
                 channels=channels, generation=gen)

    @staticmethod
    def _ack_who(text: str) -> str:
        match = re.search(r"\*\*Acknowledged\*\* by (\S+)", text)
        return match.group(1) if match else ""

    def _ack_how(self, who: str, at: datetime, text: str) -> str:
        """How `who` acknowledged: the evidence nearest `at` (a 👀, an /ack comment, the label),
        else what the bot's own notice says."""
        candidates: list[tuple[timedelta, str]] = []
        for _number, reaction in self.record.reactions:
            if reaction.emoji == "eyes" and reaction.user.lower() == who.lower() and reaction.created_at is not None:
                candidates.append((abs(_utc(reaction.created_at) - at), "👀"))
        for _number, comment in self.people_comments:
            found = command_in(comment.body)
            if found and found[0] == "ack" and comment.author.lower() == who.lower():
                candidates.append((abs(_utc(comment.created_at) - at), "command"))
        for add in self.record.label_adds:
            if add.label == self.policy.labels.acknowledged and add.by.lower() == who.lower():
                candidates.append((abs(_utc(add.at) - at), "label"))
        near = [c for c in candidates if c[0] <= _NEAR]
        if near:
            return min(near)[1]
        match = _ACK_HOW.search(text)
        said = match.group(1) if match else ""
        return {"/ack": "command", "👀": "👀", "label": "label"}.get(said, said or "")

    def resolved(self, p: str, gen: int) -> datetime | None:
        key = f"{p}:resolved"
        if key not in self.done:
            return None
        noticed = self.keyed.get(key)
        inc = self.incident
        note = ""
        if gen == inc.generation and inc.resolved_at is not None and not inc.active:
            at, who, false_positive, note = _utc(inc.resolved_at), inc.resolved_by or "", inc.status == "false_positive", str(inc.resolution)
        elif noticed is not None:
            match = _RESOLVED_BY.search(noticed[2])
            at, who = noticed[0], match.group(2) if match else ""
            false_positive = bool(match and match.group(1) == "False positive")
            note = "\n".join(line[2:] for line in noticed[2].splitlines() if line.startswith("> "))
        else:
            return None
        how = self._resolve_how(who, at, note)
        channels, _ = self.chat_of(key, noticed[0] if noticed else at)
        closed = f"; outage issue #{inc.outage_issue} closed" if f"{key}:close" in self.done and inc.outage_issue else ""
        kind = "false_positive" if false_positive else "resolved"
        what = ("marked a false positive" if false_positive else "resolved") + closed
        self.add(at, kind, what, who, how, issue=noticed[1] if noticed else self.src, channels=channels, note=note, generation=gen)
        return at

    def _resolve_how(self, who: str, at: datetime, note: str) -> str:
        for _number, comment in self.people_comments:
            found = command_in(comment.body)
            if found and found[0] != "ack" and comment.author.lower() == who.lower() and abs(_utc(comment.created_at) - at) <= _NEAR:
                return "command"
        if note == "the severity label was removed":
            return "label"
        for issue in (self.record.source, self.record.outage):
            if issue is not None and not issue.is_open and (issue.closed_by or "").lower() == who.lower() and who:
                return "close"
        return "close" if who else ""

    def others(self, p: str, gen: int) -> None:
        for key, (at, number, _text) in self.keyed.items():
            if key.startswith(f"{p}:refuse:"):
                comment_id = key.rsplit(":", 1)[1]
                person = next((c for _n, c in self.people_comments if str(c.id) == comment_id), None)
                found = command_in(person.body) if person else None
                what = f"/{found[0] if found else 'a command'} ignored: not in the policy's people and no triage access"
                self.add(person.created_at if person else at, "refused", what, person.author if person else "", "command",
                         issue=number, generation=gen)
            elif key == f"{p}:closed-not-resolved":
                self.add(at, "closed_not_resolved", "closed or unlabeled by someone who may not resolve: the incident goes on",
                         BOT, "comment", issue=number, generation=gen)
        advisory = self.keyed.get(f"{self.src}:advisory")
        if gen == 1 and advisory is not None:
            self.add(advisory[0], "advisory", "the reporter was pointed to a private security advisory", BOT, "comment",
                     issue=advisory[1], generation=gen)

    def handoffs(self, windows: list[tuple[datetime, datetime]]) -> None:
        from bot.oncall import handoffs_between

        oncall = self.policy.oncall
        assert oncall is not None
        channels = tuple(handoff_channels(self.policy))
        for start, end in windows:
            if end <= start:
                continue
            for shift in handoffs_between(oncall, self.policy.tz, start, end):
                what = f"on-call handoff: {self.person_name(shift.primary)} primary, {self.person_name(shift.secondary)} secondary"
                self.add(shift.start, "handoff", what, BOT, "tick", channels=channels)


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


# -- showing it ------------------------------------------------------------------------------------

def _who(entry: Entry) -> str:
    return one_line(entry.who, 80) or "someone (the forge does not say)"


def timeline_lines(entries: Sequence[Entry], tz: ZoneInfo, *, notes: bool = True) -> list[str]:
    """One line per entry, for a terminal or a CI log: the time in `tz` and UTC, what, who and
    how. `notes`: show resolution notes (user text, on one line); off for a confidential incident."""
    lines = []
    for e in entries:
        how = f", {e.how}" if e.how else ""
        told = f"; told {', '.join(e.channels)}" if e.channels and e.kind != "alerted" else ""
        note = f': "{one_line(e.note, 200)}"' if notes and e.note else ""
        lines.append(f"{_when(e.at, tz)}  {e.what}{note} ({_who(e)}{how}){told}")
    return lines


def timeline_data(entries: Sequence[Entry], tz: ZoneInfo, *, notes: bool = True) -> list[dict[str, Any]]:
    """The entries as JSON-ready dicts: `at` in UTC (ISO 8601, Z), `local` in `tz`, `when` as
    people read it."""
    out = []
    for e in entries:
        out.append({
            "at": e.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "local": e.at.astimezone(tz).isoformat(),
            "when": _when(e.at, tz),
            "kind": e.kind,
            "what": e.what,
            "who": e.who,
            "how": e.how,
            "issue": e.issue,
            "channels": list(e.channels),
            "note": e.note if notes else "",
            "generation": e.generation,
        })
    return out
