"""The report as people read it (Markdown: a terminal, `$GITHUB_STEP_SUMMARY`, an issue) and as
programs read it (JSON, durations in seconds). Pure.

A confidential incident's title and issue number appear in neither: it counts in every number,
and where an incident is listed it reads "a confidential incident".
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from bot.durations import humanize
from bot.report.model import Record, Report, Row, Spread
from bot.text import md_inline

CONFIDENTIAL = "a confidential incident"


# -- JSON ---------------------------------------------------------------------------------------

def _spread(s: Spread) -> dict[str, Any]:
    return {"n": s.n, "median": s.median, "p90": s.p90}


def _row(row: Row) -> dict[str, Any]:
    return {"incidents": row.incidents, "false_positives": row.false_positives, "unacknowledged": row.unacknowledged,
            "mtta": _spread(row.mtta), "mttr": _spread(row.mttr), "breached": row.breached,
            "escalated": row.escalated, "escalations": row.escalations}


def _utc(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def _incident(r: Record) -> dict[str, Any]:
    return {"issue": None if r.confidential else r.source, "title": None if r.confidential else r.title,
            "confidential": r.confidential, "severity": r.severity, "status": r.status,
            "declared_at": _utc(r.declared_at), "acknowledged_at": _utc(r.acknowledged_at),
            "resolved_at": _utc(r.resolved_at), "acknowledged_by": r.acknowledged_by,
            "mtta": r.tta, "mttr": r.ttr, "escalations": r.escalations, "breached": r.breached}


def to_json(report: Report) -> dict[str, Any]:
    """Durations in seconds (floats; null when there is none), instants in UTC."""
    return {
        "since": _utc(report.since),
        "now": _utc(report.now),
        "timezone": report.timezone,
        "total": _row(report.total),
        "in_progress": report.in_progress,
        "severities": {name: _row(row) for name, row in report.severities.items()},
        "weeks": [{"week": w.key, "monday": w.monday.isoformat(), **_row(w.row),
                   "severities": {name: _row(row) for name, row in w.severities.items()}} for w in report.weeks],
        "acknowledged_by": dict(report.acknowledgers),
        "incidents": [_incident(r) for r in report.incidents],
    }


# -- Markdown -----------------------------------------------------------------------------------

def _d(seconds: float | None) -> str:
    return "–" if seconds is None else humanize(timedelta(seconds=seconds))


HEAD = ("| {first} | incidents | MTTA median | MTTA p90 | unacknowledged | MTTR median | MTTR p90 | breached | escalated "
        "| false positives |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")


def _cells(first: str, row: Row) -> str:
    return (f"| {first} | {row.incidents} | {_d(row.mtta.median)} | {_d(row.mtta.p90)} | {row.unacknowledged} "
            f"| {_d(row.mttr.median)} | {_d(row.mttr.p90)} | {row.breached} | {row.escalated} | {row.false_positives} |")


def _name(r: Record) -> str:
    return CONFIDENTIAL if r.confidential else f"#{r.source} {md_inline(r.title, 80)}"


def to_markdown(report: Report, *, heading: str = "##") -> str:
    tz = ZoneInfo(report.timezone)
    first = report.since.astimezone(tz).date()
    last = report.now.astimezone(tz).date()
    total = report.total
    out = [f"{heading} Incident report, {first:%Y-%m-%d} to {last:%Y-%m-%d}", ""]
    summary = (f"{total.incidents} incident{'s' * (total.incidents != 1)} resolved"
               f" ({total.incidents - total.unacknowledged} acknowledged, {total.unacknowledged} never acknowledged);"
               f" {total.false_positives} false positive{'s' * (total.false_positives != 1)} and"
               f" {report.in_progress} still in progress, counted apart.")
    out.append(summary)
    if total.incidents:
        out.append(f"Time to acknowledge: median {_d(total.mtta.median)}, p90 {_d(total.mtta.p90)}."
                   f" Time to resolve: median {_d(total.mttr.median)}, p90 {_d(total.mttr.p90)}."
                   f" Deadline breached: {total.breached}; escalated: {total.escalated}"
                   f" ({total.escalations} notice{'s' * (total.escalations != 1)}).")
    out += ["", f"{heading}# By severity", "", HEAD.format(first="severity")]
    out += [_cells(md_inline(name, 40), row) for name, row in report.severities.items()]
    busy = [w for w in report.weeks if w.row.incidents or w.row.false_positives]
    out += ["", f"{heading}# By week (ISO weeks, {report.timezone})", ""]
    if busy:
        out.append(HEAD.format(first="week"))
        out += [_cells(f"{w.key} (from {w.monday:%b %d})", w.row) for w in busy]
        quiet = len(report.weeks) - len(busy)
        if quiet:
            out += ["", f"{quiet} week{'s' * (quiet != 1)} without incidents."]
    else:
        out.append("No incidents.")
    out += ["", f"{heading}# Who acknowledged", ""]
    if report.acknowledgers:
        acked = sum(n for _, n in report.acknowledgers)
        out += ["| who | acknowledged | share |", "|---|--:|--:|"]
        out += [f"| {md_inline(who, 60)} | {n} | {round(100 * n / acked)}% |" for who, n in report.acknowledgers]
    else:
        out.append("Nobody acknowledged an incident.")
    if report.slowest:
        out += ["", f"{heading}# Longest to resolve", "", "| incident | severity | acknowledged after | resolved after |",
                "|---|---|--:|--:|"]
        out += [f"| {_name(r)} | {md_inline(r.severity, 40)} | {_d(r.tta) if r.tta is not None else 'never'} | {_d(r.ttr)} |"
                for r in report.slowest]
    return "\n".join(out) + "\n"
