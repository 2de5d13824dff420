"""Issue #11 item 2's "done when", on the local forge: a confidential (security, critical)
incident runs its whole life beside a public one, and nothing public the bot wrote names it.

This module also holds the search the GitHub and GitLab versions use
(tests/github/test_github_confidential.py, tests/gitlab/test_gitlab_confidential.py): what
is looked for (`Secret`), how public text is normalised before looking (escaping must not hide
a leak), and the decoding of the bot's hidden markers (the status index, ledgers), which are
searched too.

The local run goes through the CLI, `--forge local --db FILE`, one event file per action, as a
person trying a policy would; the local chat in the same sqlite file stands for Slack.
"""

from __future__ import annotations

import html
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.adapters.local import LocalForge
from bot.cli import cli, confidential_channels
from bot.config import load
from bot.ledger import LEDGER_RE, STATUS_RE, decode_ledger, status_data
from bot.records import Access
from bot.runner import PRIVATE_INDEX_TITLE

POLICY = Path(__file__).resolve().parent / "fixtures" / "contract_policy.yml"  # security: confidential, notify [security]
T0 = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)  # Monday 09:00 in New York; the handoff is at 17:00 UTC

# The confidential incident: words found nowhere else (not in the templates, not in the public
# incident), so any hit is the incident's. The reporter writes the title; the security lead
# resolves it with the note.
SECRET_TITLE = "Quokka signing key exposed in Zephyr build logs"
SECRET_BODY = "Quokka build logs print the Zephyr signing key."
SECRET_NOTE = "rotated marmalade keyring, revoked hyacinth credentials"
PUBLIC_TITLE = "Checkout is down"
PUBLIC_NOTE = "restarted the payment pods"


def h(hours: int = 0, minutes: int = 0) -> datetime:
    """A moment of the scenario: T0 plus hours and minutes."""
    return T0 + timedelta(hours=hours, minutes=minutes)


_INVISIBLE = re.compile("[\u00ad\u034f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_BACKSLASH = re.compile(r"\\(?=[^\w\s])")  # Markdown's \# \[ \_ escapes


def normalise(text: str) -> str:
    """What a reader sees, roughly: entities decoded, invisible characters and Markdown
    backslash escapes gone, whitespace collapsed, case folded. Escaping that keeps text
    readable (item 5) must not hide a leak from the search."""
    text = html.unescape(html.unescape(text))
    text = _BACKSLASH.sub("", _INVISIBLE.sub("", text))
    return re.sub(r"\s+", " ", text).casefold()


def strings(value: Any) -> str:
    """Every string in a JSON value (a request body, a Slack message), one per line: searched
    as text, not as JSON, whose escapes (a \\n before a word) would hide words."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(strings(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return "\n".join(strings(v) for v in value)
    return "" if value is None else str(value)


def decoded_markers(text: str) -> list[str]:
    """The bot's hidden state in `text` (status index, ledgers) as JSON, to be searched too."""
    out = []
    if STATUS_RE.search(text):
        data = status_data(text)
        out += [json.dumps(data, default=str, ensure_ascii=False), strings(data)]
    for match in LEDGER_RE.finditer(text):
        ledger = decode_ledger(match.group(0))
        if ledger is not None:
            data = json.loads(json.dumps(ledger.incident.__dict__, default=str))
            out += [json.dumps(data, ensure_ascii=False), strings(data)]
    return out


@dataclass(frozen=True)
class Secret:
    """The confidential incident: its title, issue number (None: look for the words only) and
    resolution note (or any other text of its that must stay private)."""

    title: str
    number: int | None
    note: str

    def needles(self) -> dict[str, re.Pattern[str]]:
        n = self.number
        found: dict[str, re.Pattern[str]] = {"title": re.compile(re.escape(normalise(self.title)))}
        if n is not None:
            found.update({
                f"#{n}": re.compile(rf"#{n}(?!\d)"),
                f"/issues/{n}": re.compile(rf"/issues/{n}(?!\d)"),
                f"key={n}:": re.compile(rf"outage-bot:key={n}:"),  # an idempotency key of the incident's
                f"outage-of={n}": re.compile(rf"outage-of={n}(?!\d)"),
                f'"source": {n}': re.compile(rf'"source": {n}(?!\d)'),  # in a decoded ledger or index
            })
        found["note"] = re.compile(re.escape(normalise(self.note)))
        # Each distinctive word too: a title cut short or a note reworded still leaks.
        for word in re.findall(r"[A-Za-z]{6,}", self.title + " " + self.note):
            found.setdefault(word.lower(), re.compile(rf"\b{re.escape(word.casefold())}\b"))
        return found

    def hits(self, places: Iterable[tuple[str, str]]) -> list[str]:
        """'where: needle: …excerpt…' for every needle found in every (where, text) place,
        markers decoded and searched as well."""
        needles = self.needles()
        out = []
        for where, text in places:
            out += [f"{where} (decoded status index): {found}" for found in self.in_index(text)]
            for part, body in [("", text)] + [(" (decoded marker)", d) for d in decoded_markers(text)]:
                seen = normalise(body)
                for name, pattern in needles.items():
                    match = pattern.search(seen)
                    if match:
                        excerpt = seen[max(0, match.start() - 60):match.end() + 60]
                        out.append(f"{where}{part}: {name!r}: …{excerpt}…")
        return out

    def in_index(self, body: str) -> list[str]:
        """Where a status issue's decoded index lists the incident by number (entries, quiet
        marks, history): the structure, beside the text search."""
        data = status_data(body)
        if not isinstance(data, dict) or self.number is None:
            return []
        n = str(self.number)
        out = []
        if n in (data.get("entries") or {}):
            out.append(f"entries[{n}]")
        if n in (data.get("quiet") or {}):
            out.append(f"quiet[{n}]")
        out += [f"history source {n}" for item in data.get("history") or [] if str(item.get("source")) == n]
        return out


@contextmanager
def clean_environment() -> Iterator[None]:
    """For a module-scoped scenario (built before the function-scoped fixtures that clean the
    environment): no real token or CI variable reaches it, and loopback is reached directly."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("SLACK_", "GITHUB_", "GITLAB_", "CI_", "OUTAGE_BOT_", "APPRISE")) or name == "TRIGGER_PAYLOAD":
                patch.delenv(name)
        patch.setenv("NO_PROXY", "127.0.0.1,localhost")
        patch.setenv("no_proxy", "127.0.0.1,localhost")
        yield


def count_hits(secret: Secret, places: list[tuple[str, str]]) -> tuple[int, list[str]]:
    found = secret.hits(places)
    return len(found), found


def test_the_needles_find_what_they_are_meant_to_find() -> None:
    """The search can fail: escaped, entity-encoded, zero-width-split and marker-hidden forms
    of the title, the number and the note are all found, and other numbers are not."""
    secret = Secret(SECRET_TITLE, 3, SECRET_NOTE)
    from bot.ledger import status_marker

    marked = status_marker({"entries": {}, "history": [{"source": 3, "title": "x", "resolution": ""}]})
    found = secret.hits([
        ("a", "Quokka signing key exposed in Zephyr build logs"),
        ("b", "see &#35;3 for details"),
        ("c", "see #\u200b3"),
        ("d", "https://gitlab.example/acme/shop/-/issues/3#note_1"),
        ("e", "Resolved: rotated marmalade keyring, revoked hyacinth credentials"),
        ("f", "qu\u200bokka"),
        ("g", marked),
        ("h", "#31 /issues/30 #13 key=13: word quokkas"),
    ])
    assert {f.split(":")[0] for f in found} == {"a", "b", "c", "d", "e", "f", "g (decoded marker)", "g (decoded status index)"}, found
    assert secret.in_index(marked) == ["history source 3"]


# -- the local forge, through the CLI ---------------------------------------------------------------
class Local:
    """`outage-bot handle/tick --forge local --db FILE`, one JSON event file per action."""

    def __init__(self, tmp: Path) -> None:
        self.tmp, self.db, self.runs = tmp, tmp / "forge.sqlite", 0
        # Every version of everything written, taken after each run: the local forge and chat
        # overwrite a body when it is edited, and an edit's earlier text was public meanwhile.
        self.seen: dict[tuple[Any, ...], None] = {}

    def invoke(self, args: list[str], at: datetime) -> Result:
        result = CliRunner().invoke(cli, [*args, "--forge", "local", "--db", str(self.db), "--config", str(POLICY),
                                          "--now", at.isoformat()], env={})
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == 0, result.output
        self.seen.update(dict.fromkeys(self.snapshot()))
        return result

    def snapshot(self) -> list[tuple[Any, ...]]:
        issues = self.rows("select number, confidential, title, body from issues")
        comments = self.rows("select c.issue, i.confidential, c.author, c.body from comments c join issues i on i.number = c.issue")
        chat = self.rows("select channel, headline, body, key from chat")
        return ([("issue", *row) for row in issues] + [("comment", *row) for row in comments]
                + [("chat", *row) for row in chat])

    def public_places(self, secret: Secret, private_channels: set[str]) -> list[tuple[str, str]]:
        """Every version of every issue that is not confidential (but the incident's source),
        of every comment on those, and of every message to a channel that is not private."""
        places = []
        for kind, *row in self.seen:
            if kind == "issue" and not row[1] and row[0] != secret.number:
                places += [(f"issue #{row[0]} title", row[2]), (f"issue #{row[0]} body", row[3] or "")]
            elif kind == "comment" and not row[1] and row[0] != secret.number:
                places.append((f"comment on #{row[0]} by {row[2]}", row[3]))
            elif kind == "chat" and row[0] not in private_channels:
                places.append((f"chat {row[0]}", "\n".join(str(x) for x in row[1:])))
        return places

    def act(self, at: datetime, **action: Any) -> Result:
        self.runs += 1
        path = self.tmp / f"event-{self.runs}.json"
        path.write_text(json.dumps(action), encoding="utf-8")
        return self.invoke(["handle", "--event", str(path)], at)

    def tick(self, at: datetime) -> Result:
        return self.invoke(["tick"], at)

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db) as db:
            return list(db.execute(sql, args))


@dataclass
class Life:
    """The end of a confidential incident's life on the local forge, beside a public one."""

    run: Local
    number: int  # the confidential incident's issue
    secret: Secret

    def issues(self) -> list[tuple[Any, ...]]:
        return self.run.rows("select number, title, body, confidential, author, labels from issues order by number")

    def chat(self, channel: str) -> list[str]:
        return [f"{head}\n{body}" for c, head, body in self.run.rows("select channel, headline, body from chat order by id") if c == channel]


@pytest.fixture(scope="module")
def life(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Life]:
    with clean_environment():
        yield live(Local(tmp_path_factory.mktemp("local")))


def live(run: Local) -> Life:
    # a public critical incident: #1, its outage issue #2
    run.act(h(), action="open", title=PUBLIC_TITLE, body="Every order fails with a 502.", labels=["priority::highest"], actor="reporter")
    # the confidential one, labeled the way people do it: the kind, then the severity
    run.act(h(minutes=5), action="open", title=SECRET_TITLE, body=SECRET_BODY, actor="reporter")
    [(number,)] = run.rows("select number from issues where title=?", SECRET_TITLE)
    run.act(h(minutes=6), action="label", issue=number, label="security", actor="reporter")
    declared = run.act(h(minutes=6), action="label", issue=number, label="priority::highest", actor="reporter")
    assert f"declared: critical (security) incident on #{number}" in declared.output
    LocalForge(run.db).add_member("maint", Access.MAINTAIN)

    run.tick(h(minutes=10))
    run.act(h(minutes=30), action="react", issue=1, emoji="eyes", actor="aj-gh")  # the public one acknowledged
    for moment in (h(3, 10), h(12, 10), h(20, 10), h(23, 10)):  # the handoff, the secondary called, the reminders
        run.tick(moment)
    run.act(h(23, 15), action="comment", issue=number, body="/ack on it", actor="sec-lead")  # a policy person
    run.tick(h(23, 20))
    run.act(h(23, 40), action="comment", issue=1, body=f"/resolve {PUBLIC_NOTE}", actor="maint")
    run.tick(h(23, 50))
    run.tick(h(24, 10))  # the confidential one's deadline (24h after 14:06) has passed: the breach notice
    resolved = run.act(h(24, 20), action="comment", issue=number, body=f"/resolve {SECRET_NOTE}", actor="sec-lead")
    assert "resolved by sec-lead" in resolved.output, resolved.output
    for moment in (h(24, 30), h(25, 30)):  # the status issues rewritten with the history
        run.tick(moment)
    return Life(run, number, Secret(SECRET_TITLE, number, SECRET_NOTE))


def test_nothing_public_names_the_confidential_incident_on_the_local_forge(life: Life) -> None:
    places = life.run.public_places(life.secret, confidential_channels(load(POLICY)[0]))
    count, found = count_hits(life.secret, places)
    print(f"local: searched {len(places)} public texts (every version written): {count} hits")
    assert count == 0, "\n".join(found)
    # the control: the public status issue does list the public incident and its note
    [status] = [i for i in life.issues() if not i[3] and i[4] == "outage-bot" and STATUS_RE.search(i[2] or "")]
    assert PUBLIC_TITLE in status[2] and PUBLIC_NOTE in status[2]


def test_the_confidential_incident_lived_in_private_on_the_local_forge(life: Life) -> None:
    """The controls: the incident went through its life, in its confidential issues and its
    own channel, so the search above had something to miss."""
    issues, number = life.issues(), life.number
    # the confidential status issue: exists, is confidential, lists the incident and its note
    [private] = [i for i in issues if i[1] == PRIVATE_INDEX_TITLE]
    assert private[3] == 1 and private[4] == "outage-bot" and "outage-bot::status" in private[5]
    assert SECRET_TITLE in private[2] and "marmalade" in private[2]
    assert f"history source {number}" in life.secret.in_index(private[2]) and PUBLIC_TITLE not in private[2]
    [outage] = [i for i in issues if i[1] == f"Outage: {SECRET_TITLE}"]
    assert outage[3] == 1
    own = [b for n, a, b in life.run.rows("select issue, author, body from comments order by id") if n == number and a == "outage-bot"]
    assert all(any(word in b for b in own) for word in ("Escalation", "left", "Acknowledged", "Deadline missed", "Resolved"))
    security = life.chat("security")
    assert any("Quokka" in m for m in security) and any("marmalade" in m for m in security) and len(security) >= 5
    assert len(life.chat("alerts")) >= 5 and life.chat("users")  # the public incident's, and the handoff


def test_declaring_a_confidential_kind_by_hand_opens_no_public_issue_on_the_local_forge(tmp_path: Path) -> None:
    run = Local(tmp_path)
    body = tmp_path / "body.md"
    body.write_text(SECRET_BODY, encoding="utf-8")
    with clean_environment():
        run.invoke(["declare", "--severity", "critical", "--kind", "security", "--title", SECRET_TITLE, "--body-file", str(body)], T0)
    secret = Secret(SECRET_TITLE, None, SECRET_BODY)
    count, found = count_hits(secret, run.public_places(secret, confidential_channels(load(POLICY)[0])))
    assert count == 0, "\n".join(found)
    assert run.rows("select confidential from issues where title=?", SECRET_TITLE) == [(1,)]  # the incident's issue is confidential
