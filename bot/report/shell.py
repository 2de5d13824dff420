"""The shell around the report: read incident records from a forge, write what was asked for.

What it reads, on any forge (GitHub, GitLab, the local one):
1. the issues updated since the window's start (`changed_issues(since)`: open and closed, one
   request per 100 issues on GitHub and GitLab). Every incident declared in the window was
   written to since (the bot's tag comment at least), so none is missed.
2. the ledger (the bot's comment carrying one, bot.ledger) of each issue that may hold an
   incident: one with a severity or kind label, or one the status index's history names (an
   incident whose label was taken off when it ended). One request per incident.

Confidential incidents are read and counted (the report's numbers are the team's); the model
marks them and the views never show their titles.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from bot.ledger import STATUS_RE, Ledger, decode_ledger, outage_source, status_data
from bot.policy import Policy
from bot.ports import Forge
from bot.records import Issue
from bot.report.model import Record
from bot.schedule import deadline_of
from bot.status_index import Index
from bot.status_index import confidential as confidential_kind

# The keys the planner gives escalation and breach notices (bot/planner.py: escalation_key and
# Planner.timers): `<source>:g<generation>:escalate:<severity>:<since>:<step>` and
# `...:breach:<severity>:<since>:<n>`. A chat post of the same notice appends `:chat:...`.
_NOTICE = re.compile(r"\d+:g(\d+):(escalate|breach):[^:]+:[^:]+:\d+")


def record_of(ledger: Ledger, policy: Policy, forge_name: str, *, secret: bool = False) -> Record:
    """The report's record of one incident, from its ledger (its current generation: a reopened
    incident counts once, from its reopening)."""
    inc = ledger.incident
    notices = [m.group(2) for key in ledger.done if (m := _NOTICE.fullmatch(key)) and int(m.group(1)) == inc.generation]
    deadline = deadline_of(inc, policy) if inc.severity in policy.severities else None
    late = deadline is not None and inc.resolved_at is not None and inc.resolved_at > deadline
    who = inc.acknowledged_by
    if who:  # the person's id where the policy knows the login (the local forge uses GitHub's handles)
        who = policy.person_by_handle("github" if forge_name == "local" else forge_name, who) or who
    return Record(source=inc.source, title=inc.title, severity=inc.severity, status=inc.status,
                  declared_at=inc.declared_at, acknowledged_at=inc.acknowledged_at, acknowledged_by=who,
                  resolved_at=inc.resolved_at, escalations=notices.count("escalate"),
                  breached=late or "breach" in notices,
                  confidential=secret or confidential_kind(inc, policy))


def read_records(forge: Forge, policy: Policy, since: datetime) -> list[Record]:
    """Every incident on the forge whose issue changed since `since`, active ones included (the
    model counts those apart)."""
    bot = (getattr(forge, "bot_login", None) or "").lower()

    def by_bot(login: str) -> bool:  # anyone can paste a marker: only the bot's own are believed
        return not bot or login.lower() == bot

    issues = forge.changed_issues(since)
    status_issues = {i.number for i in issues
                     if policy.labels.status in i.labels and STATUS_RE.search(i.body or "") and by_bot(i.author)}
    named: set[int] = set()
    secret: set[int] = set()
    for issue in issues:
        if issue.number in status_issues:
            index = Index.from_data(status_data(issue.body))
            named |= {int(h["source"]) for h in index.history}
            secret |= {int(h["source"]) for h in index.history if h.get("confidential") or issue.confidential}
    secret_labels = {label for kind in policy.kinds.values() if kind.confidential for label in kind.labels}
    records: list[Record] = []
    for issue in issues:
        if issue.number in status_issues or (outage_source(issue.body or "") is not None and by_bot(issue.author)):
            continue  # the status issue; an outage issue (its incident is read on its source issue)
        if issue.number not in named and policy.severity_of(issue.labels) is None:
            continue
        ledger = _ledger(forge, issue, by_bot)
        if ledger is not None:
            hidden = issue.confidential or issue.number in secret or bool(secret_labels & set(issue.labels))
            records.append(record_of(ledger, policy, forge.name, secret=hidden))
    return records


def _ledger(forge: Forge, issue: Issue, by_bot: Callable[[str], bool]) -> Ledger | None:
    for comment in forge.list_comments(issue.number):
        if by_bot(comment.author):
            ledger = decode_ledger(comment.body)
            if ledger is not None:
                return ledger
    return None


def run_report(forge: Forge, policy: Policy, now: datetime, since: timedelta, *, as_json: bool, out: Path | None,
               summary: Path | None, dry_run: bool = False, err: Callable[[str], None] = print) -> str:
    """`outage-bot report`: read, compute, then the text for stdout (JSON or Markdown). The
    Markdown is appended to `summary` (`$GITHUB_STEP_SUMMARY`) and the charts written into
    `out`, unless `dry_run`; what was written is said on `err`."""
    import json

    from bot.report.model import build
    from bot.report.view import to_json, to_markdown

    if out is not None:
        from bot.report.charts import require

        require()
    start = now - since
    report = build(read_records(forge, policy, start), since=start, now=now, tz=policy.tz, severities=list(policy.severities))
    markdown = to_markdown(report)
    if out is not None:
        from bot.report.charts import MTT_CHART, SEVERITY_CHART, write_charts

        if dry_run:
            for name in (MTT_CHART, SEVERITY_CHART):
                err(f"would write {out / name}")
        else:
            for path in write_charts(report, out):
                err(f"wrote {path}")
    if summary is not None and not dry_run:
        with summary.open("a", encoding="utf-8") as handle:
            handle.write(markdown + "\n")
    return json.dumps(to_json(report), indent=2) + "\n" if as_json else markdown
