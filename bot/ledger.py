"""The incident's state, kept in the forge itself: CI jobs keep nothing between runs.

The state lives in one bot comment on the source issue (the first one the bot writes there,
whose visible text tags people), inside an HTML comment:

    <!-- outage-bot:ledger v1 BASE64URL -->

base64url (no "/", no "-->") so that user text stored in it can never end the comment, start
a GitLab quick action line, or mention anyone. Other markers tie the bot's artifacts together:

    <!-- outage-bot:key=KEY -->           in every comment the bot posts (find it after a crash)
    <!-- outage-bot:intent=KEY -->        in a tick's notice: the rest of its plan (write-ahead)
    <!-- outage-bot:outage-of=N key=K --> in the outage issue body (the incident's source issue)
    <!-- outage-bot:status v1 BASE64URL --> in the status issue body (the index of incidents)
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.incident import Incident
from bot.text import UserText

LEDGER_RE = re.compile(r"<!-- outage-bot:ledger v1 ([A-Za-z0-9_=-]+) -->")
KEY_RE = re.compile(r"<!-- outage-bot:key=([^ ]+) -->")
INTENT_RE = re.compile(r"<!-- outage-bot:intent=([^ ]+) -->")
OUTAGE_RE = re.compile(r"<!-- outage-bot:outage-of=(\d+) key=([^ ]+) -->")
STATUS_RE = re.compile(r"<!-- outage-bot:status v1 ([A-Za-z0-9_=-]+) -->")



@dataclass(frozen=True)
class Ledger:
    """The incident plus the executor's bookkeeping."""

    incident: Incident
    done: frozenset[str] = frozenset()
    outbox: tuple[dict[str, Any], ...] = ()  # actions planned but not yet done (serialised)
    refs: dict[str, str] = field(default_factory=dict)  # key -> what it produced (comment id, chat ref)
    failures: dict[str, str] = field(default_factory=dict)  # key -> last error, retried next run
    # (run id, until): a run is applying this ledger's outbox. Another run leaves pending
    # actions alone until then (they are not the leftovers of a dead run), so two runs never
    # carry out the same action at once. Cleared when the run saves its outcome.
    lease: tuple[str, datetime] | None = None


def closed_not_resolved(ledger: Ledger) -> bool:
    """Was the source issue closed by someone who may not resolve, in this generation? The
    incident then goes on with its issue closed."""
    inc = ledger.incident
    return inc.active and f"{inc.source}:g{inc.generation}:closed-not-resolved" in ledger.done


# -- encoding -----------------------------------------------------------------------------------

def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$td": value.total_seconds()}
    if isinstance(value, (frozenset, set)):
        return sorted(value)
    raise TypeError(f"cannot store {type(value).__name__}")


def _revive(obj: dict[str, Any]) -> Any:
    if set(obj) == {"$dt"}:
        return datetime.fromisoformat(obj["$dt"])
    if set(obj) == {"$td"}:
        return timedelta(seconds=obj["$td"])
    if set(obj) == {"$u"}:
        return UserText(obj["$u"])
    return obj


def _mark_user_text(value: Any) -> Any:
    """UserText must stay UserText across a round trip, or a stored action would render user
    text unescaped in a later run."""
    if isinstance(value, UserText):
        return {"$u": str(value)}
    if isinstance(value, dict):
        return {k: _mark_user_text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mark_user_text(v) for v in value]
    return value


def pack(data: Any) -> str:
    raw = json.dumps(_mark_user_text(data), default=_default, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(zlib.compress(raw.encode("utf-8"), 9)).decode("ascii")


def unpack(blob: str) -> Any:
    return json.loads(zlib.decompress(base64.urlsafe_b64decode(blob.encode("ascii"))), object_hook=_revive)


def _incident_to_data(incident: Incident) -> dict[str, Any]:
    data = dict(incident.__dict__)
    data["severity_history"] = [[s, t] for s, t in incident.severity_history]
    return data


def _incident_from_data(data: dict[str, Any]) -> Incident:
    data = dict(data)
    data["tagged"] = tuple(data.get("tagged", ()))
    data["notified"] = tuple(data.get("notified", ()))
    data["severity_history"] = tuple((s, t) for s, t in data.get("severity_history", ()))
    known = Incident.__dataclass_fields__
    return Incident(**{k: v for k, v in data.items() if k in known})


def encode_ledger(ledger: Ledger) -> str:
    blob = pack(
        {
            "incident": _incident_to_data(ledger.incident),
            "done": sorted(ledger.done),
            "outbox": list(ledger.outbox),
            "refs": ledger.refs,
            "failures": ledger.failures,
            "lease": list(ledger.lease) if ledger.lease else None,
        }
    )
    return f"<!-- outage-bot:ledger v1 {blob} -->"


def decode_ledger(body: str) -> Ledger | None:
    match = LEDGER_RE.search(body or "")
    if not match:
        return None
    try:
        data = unpack(match.group(1))
    except (ValueError, zlib.error, json.JSONDecodeError):
        return None
    return Ledger(
        incident=_incident_from_data(data["incident"]),
        done=frozenset(data.get("done", ())),
        outbox=tuple(data.get("outbox", ())),
        refs=dict(data.get("refs", {})),
        failures=dict(data.get("failures", {})),
        lease=(str(data["lease"][0]), data["lease"][1]) if data.get("lease") else None,
    )


def replace_ledger(body: str, ledger: Ledger) -> str:
    marker = encode_ledger(ledger)
    if LEDGER_RE.search(body):
        return LEDGER_RE.sub(lambda _: marker, body, count=1)
    return body.rstrip("\n") + "\n\n" + marker + "\n"


def key_marker(key: str) -> str:
    return f"<!-- outage-bot:key={key} -->"


def keys_in(body: str) -> list[str]:
    return KEY_RE.findall(body or "")


def intent_marker(key: str) -> str:
    """In a tick's notice comment: an action of the same plan, not yet recorded in the ledger.
    The comment is the plan's write-ahead record: a run that dies after it is finished by the
    next, which looks each of these up before doing it."""
    return f"<!-- outage-bot:intent={key} -->"


def intents_in(body: str) -> list[str]:
    return INTENT_RE.findall(body or "")


def outage_marker(source: int, key: str) -> str:
    return f"<!-- outage-bot:outage-of={source} key={key} -->"


def postmortem_marker(source: int, key: str) -> str:
    """In a post-mortem issue's body: the incident it is about. Not an outage marker: events on
    a post-mortem issue (closing it, comments) are not the incident's."""
    return f"<!-- outage-bot:postmortem-of={source} key={key} -->"


def outage_source(body: str) -> int | None:
    """The source issue of a bot-created outage issue, from its body."""
    match = OUTAGE_RE.search(body or "")
    return int(match.group(1)) if match else None


def status_marker(data: Any) -> str:
    return f"<!-- outage-bot:status v1 {pack(data)} -->"


def status_data(body: str) -> Any | None:
    match = STATUS_RE.search(body or "")
    if not match:
        return None
    try:
        return unpack(match.group(1))
    except (ValueError, zlib.error, json.JSONDecodeError):
        return None
