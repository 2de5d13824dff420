"""The on-call rotation shown to people and programs: JSON, text, a table, an iCalendar feed.

Pure: each function turns `bot.oncall` records into text or bytes; times are shown on the
wall clock of the policy's zone (instants inside stay in UTC).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.extras import needs
from bot.oncall import Shift, first_handoff, shifts_between, to_utc
from bot.policy import OnCall, Person

People = Mapping[str, Person]
ROLES = ("primary", "secondary")


def _name(pid: str, people: People) -> str:
    person = people.get(pid)
    return person.name if person is not None and person.name else pid


def _label(pid: str, people: People) -> str:
    """ "Taylor Otwell (taylor)", or just "taylor" when the policy gives no name."""
    name = _name(pid, people)
    return pid if name == pid else f"{name} ({pid})"


def _local(instant: datetime, tz: ZoneInfo) -> str:
    return f"{instant.astimezone(tz):%a %Y-%m-%d %H:%M %Z}"


def override_note(shift: Shift) -> str:
    """ "taylor covers will (primary)" for each role an override changed; "" otherwise."""
    if not shift.overridden or shift.usual is None:
        return ""
    notes = [
        f"{now} covers {usual} ({role})"
        for role, now, usual in zip(ROLES, (shift.primary, shift.secondary), shift.usual)
        if now != usual
    ]
    return "; ".join(notes)


def now_json(shift: Shift) -> dict[str, str]:
    """The contract's `oncall now --json`: {"primary": ID, "secondary": ID, "until": ISO-8601}."""
    return {
        "primary": shift.primary,
        "secondary": shift.secondary,
        "until": shift.end.astimezone(timezone.utc).isoformat(timespec="seconds"),
    }


def now_text(shift: Shift, people: People, tz: ZoneInfo) -> str:
    """Who is on call now, for a person reading a terminal or a chat message."""
    lines = [
        f"Primary:   {_label(shift.primary, people)}",
        f"Secondary: {_label(shift.secondary, people)}",
        f"Until:     {_local(shift.end, tz)}",
    ]
    note = override_note(shift)
    if note:
        lines.append(f"Override:  {note}")
    return "\n".join(lines)


def schedule_table(shifts: Sequence[Shift], tz: ZoneInfo, people: People) -> str:
    """A plain-text table of shifts: local start, primary, secondary, override note."""
    header = ("Start", "Primary", "Secondary", "Note")
    rows = [
        (_local(s.start, tz), _name(s.primary, people), _name(s.secondary, people), override_note(s))
        for s in shifts
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


# -- iCalendar -------------------------------------------------------------------------------


def _role_pieces(shifts: Sequence[Shift], role: str) -> list[tuple[Shift, datetime, datetime, str]]:
    """Consecutive pieces of one shift with the same person in `role`, joined into one event."""
    out: list[tuple[Shift, datetime, datetime, str]] = []
    for shift in shifts:
        who = getattr(shift, role)
        if out and out[-1][0].index == shift.index and out[-1][3] == who and out[-1][2] == shift.start:
            first, start, _, _ = out.pop()
            out.append((first, start, shift.end, who))
        else:
            out.append((shift, shift.start, shift.end, who))
    return out


def _uid(calname: str, index: int, role: str, start: datetime, first: datetime, end: datetime) -> str:
    """Stable across feed refreshes, so re-subscribing updates events instead of duplicating them.

    Keyed by shift, role and the piece's start; a piece before the first shift starts at
    whatever moment the feed was made for, so it is keyed by its end instead.
    """
    feed = hashlib.sha256(calname.encode()).hexdigest()[:12]
    if start < first:
        key = f"before-{end.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
    else:
        key = f"{start.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
    return f"oncall-{index}-{role}-{key}-{feed}@outage-bot"


def to_ics(
    oncall: OnCall, tz: ZoneInfo, start: datetime, end: datetime, people: People, calname: str
) -> bytes:
    """An iCalendar feed of who is on call between `start` and `end`.

    One event per stretch of primary duty and one per stretch of secondary duty, in the
    policy's zone with its VTIMEZONE, so calendar apps show handoffs at the right local time
    (RFC 5545 section 3.6.5). DTSTAMP is `start` (the moment the feed is made for), which
    keeps the output a function of its arguments.
    """
    shifts = shifts_between(oncall, tz, start, end)
    stamp = to_utc(start, tz)
    first = first_handoff(oncall.rotation, tz)

    with needs("ical", "the iCalendar feed (oncall ics)"):
        import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", "-//outage-bot//on-call rotation//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", calname)
    cal.add("x-wr-timezone", tz.key)
    for role in ROLES:
        other = "secondary" if role == "primary" else "primary"
        for shift, begin, finish, who in _role_pieces(shifts, role):
            event = icalendar.Event()
            event.add("uid", _uid(calname, shift.index, role, begin, first, finish))
            event.add("dtstamp", stamp)
            event.add("dtstart", begin.astimezone(tz))
            event.add("dtend", finish.astimezone(tz))
            event.add("summary", f"On call ({role}): {_name(who, people)}")
            description = f"{_label(who, people)} is {role} on call (shift {shift.index})."
            usual = shift.usual[ROLES.index(role)] if shift.usual else who
            if usual != who:
                description += f" Covering for {_label(usual, people)}."
            elif role == "secondary":
                # The rotation's rule: this shift's secondary is the next shift's primary.
                description += " Primary next shift: avoid taking work that would block others."
            description += f" {other.capitalize()}: {_label(getattr(shift, other), people)}."
            event.add("description", description)
            # On-call time is not busy time: keep it from blocking people's calendars.
            event.add("transp", "TRANSPARENT")
            event.add("categories", ["on-call", role])
            cal.add_component(event)
    if shifts:
        # A VTIMEZONE with just the transitions the events need (the default spans 1970-2038).
        cal.add_missing_timezones(
            first_date=(shifts[0].start.astimezone(tz) - timedelta(days=1)).date(),
            last_date=(shifts[-1].end.astimezone(tz) + timedelta(days=1)).date(),
        )
    feed: bytes = cal.to_ical()
    return feed
