"""The shell around bot.timeline: read one incident's record through a Forge.

Requests, on GitHub and GitLab: the issue and its comments; the outage issue and its comments;
the reactions on both; and one `label_added_by` per label the timeline asks about (the
severity labels the incident had, its kind's, the acknowledged label): about ten in all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.errors import UserError
from bot.ledger import Ledger, decode_ledger, outage_source
from bot.policy import Policy
from bot.ports import Forge
from bot.records import Comment, Issue
from bot.text import one_line
from bot.timeline import (
    Entry,
    LabelAdd,
    Record,
    build_timeline,
    timeline_data,
    timeline_lines,
    wanted_labels,
)


def _ledger(comments: list[Comment], by_bot: Callable[[str], bool]) -> Ledger | None:
    for comment in comments:
        if by_bot(comment.author):
            found = decode_ledger(comment.body)
            if found is not None:
                return found
    return None


def read_record(forge: Forge, number: int, policy: Policy) -> Record:
    """The record of the incident on issue `number`: its source issue, or its outage issue.
    Raises UserError when neither holds an incident."""
    login = getattr(forge, "bot_login", None) or None
    bot = login.lower() if login else None

    def by_bot(author: str) -> bool:  # anyone can paste a ledger: only the bot's own is believed
        return bot is None or author.lower() == bot

    issue = _issue(forge, number)
    comments = forge.list_comments(number)
    ledger = _ledger(comments, by_bot)
    if ledger is None:
        source = outage_source(issue.body or "")
        if source is None or not by_bot(issue.author):
            raise UserError(f"ISSUE #{number}: no incident there (no outage-bot ledger on it, and it is not an outage issue)")
        issue = _issue(forge, source)
        comments = forge.list_comments(source)
        ledger = _ledger(comments, by_bot)
        if ledger is None:
            raise UserError(f"ISSUE #{number}: the outage issue of #{source}, which holds no outage-bot ledger")
    inc = ledger.incident
    outage = _issue(forge, inc.outage_issue) if inc.outage_issue is not None else None
    outage_comments = forge.list_comments(outage.number) if outage is not None else []
    reactions = [(issue.number, r) for r in forge.list_reactions(issue.number)]
    if outage is not None:
        reactions += [(outage.number, r) for r in forge.list_reactions(outage.number)]
    adds = []
    for on, label in wanted_labels(ledger, issue, policy):
        found = forge.label_added_by(on, label)
        if found is not None:
            adds.append(LabelAdd(on, label, found[0], found[1]))
    return Record(ledger=ledger, source=issue, comments=tuple(comments), outage=outage, outage_comments=tuple(outage_comments),
                  reactions=tuple(reactions), label_adds=tuple(adds), bot_login=login)


def _issue(forge: Forge, number: int) -> Issue:
    try:
        return forge.get_issue(number)
    except LookupError:  # the local forge; GitHub and GitLab raise ServiceError (404) naming the request
        raise UserError(f"ISSUE #{number}: no such issue") from None


def timeline_of(forge: Forge, number: int, policy: Policy, *, now: datetime) -> tuple[Record, list[Entry]]:
    """The record of the incident on issue `number` (source or outage issue) and its timeline."""
    record = read_record(forge, number, policy)
    return record, build_timeline(record, policy, now=now)


def run_timeline(forge: Forge, policy: Policy, number: int, *, now: datetime, as_json: bool = False,
                 to_gitlab: bool = False, dry_run: bool = False) -> list[str]:
    """`outage-bot timeline ISSUE`: the lines to print. `to_gitlab`: also add the entries
    missing from the GitLab incident's own timeline (`dry_run`: only say which)."""
    if to_gitlab and forge.name != "gitlab":
        raise UserError(f"--to-gitlab: timeline events are GitLab's; this run's forge is {forge.name} (use --forge gitlab)")
    record, entries = timeline_of(forge, number, policy, now=now)
    inc = record.ledger.incident
    kind = policy.kinds.get(inc.kind) if inc.kind else None
    confidential = bool(kind and kind.confidential) or record.source.confidential
    posted: list[str] = []
    if to_gitlab:
        from bot.adapters.gitlab.timeline_events import TimelineEvents, project_of

        target = inc.outage_issue or inc.source
        events = TimelineEvents(project_of(forge), target).sync(entries, notes=not confidential, dry_run=dry_run)
        posted = [e.note for e in events]
    title = "(confidential)" if confidential else one_line(inc.title, 200)
    if as_json:
        import json

        data = {
            "incident": {"source": inc.source, "outage_issue": inc.outage_issue, "title": title, "severity": inc.severity,
                         "kind": inc.kind, "status": inc.status, "generation": inc.generation},
            "timezone": policy.timezone,
            "entries": timeline_data(entries, policy.tz, notes=not confidential),
        }
        if to_gitlab:
            data["gitlab_timeline_events" if not dry_run else "gitlab_timeline_events_to_add"] = posted
        return [json.dumps(data, ensure_ascii=False, indent=2)]
    outage = f", outage issue #{inc.outage_issue}" if inc.outage_issue else ""
    what = f"{inc.severity}{', ' + inc.kind if inc.kind else ''}; {inc.status.replace('_', ' ')}"
    lines = [f"Incident #{inc.source}{outage}: {title} ({what}). Times in {policy.timezone} and UTC.", ""]
    lines += timeline_lines(entries, policy.tz, notes=not confidential)
    if to_gitlab:
        verb = "would add" if dry_run else "added"
        lines += ["", f"GitLab incident #{inc.outage_issue or inc.source}: {verb} {len(posted)} timeline event(s)"
                  + (" (the others were there already)" if entries and len(posted) < len(entries) else "")]
    return lines
