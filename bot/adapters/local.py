"""An embedded forge and chat service in one sqlite file: the sandbox behind `outage-bot demo`
and `--forge local`. It implements the same Forge and Notifier interfaces as GitHub, GitLab
and Slack, with a clock the caller sets, and counts the requests a real forge would get.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from bot.records import (
    Access,
    Channel,
    ChatMessage,
    ChatRef,
    Comment,
    ForgeCapabilities,
    Issue,
    PinOutcome,
    Reaction,
    Release,
)

SCHEMA = """
create table if not exists issues (number integer primary key, title text, body text, state text,
  labels text, author text, created_at text, updated_at text, confidential integer default 0,
  pinned integer default 0, pinned_at text, closed_by text);
create table if not exists comments (id integer primary key autoincrement, issue integer, author text,
  body text, created_at text, updated_at text);
create table if not exists label_events (issue integer, label text, action text, actor text, at text);
create table if not exists reactions (issue integer, user text, emoji text, at text);
create table if not exists members (login text primary key, access integer);
create table if not exists locks (name text primary key, note text);
create table if not exists releases (tag text primary key, name text, at text, url text);
create table if not exists chat (id integer primary key autoincrement, channel text, thread text,
  headline text, body text, mentions text, status text, key text, reactions text default '[]',
  edited integer default 0, at text);
"""

PIN_LIMIT = 3  # as on GitHub


class LocalForge:
    name = "local"
    capabilities = ForgeCapabilities(pinning=True, confidential_issues=True, incident_issue_type=False, polled_reactions=True)

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] | None = None, bot_login: str = "outage-bot") -> None:
        self.path = str(path)
        self.db = sqlite3.connect(self.path)
        self.db.executescript(SCHEMA)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.bot_login = bot_login
        self.actor = bot_login  # who writes: the bot, unless a scenario acts as a person
        self.requests = 0

    # -- plumbing ------------------------------------------------------------------------------
    def _now(self) -> str:
        return self.clock().astimezone(timezone.utc).isoformat()

    def _count(self) -> None:
        self.requests += 1

    def _issue(self, row: tuple) -> Issue:
        number, title, body, state, labels, author, created, updated, confidential, _pinned, _at, closed_by = row
        eyes = self.db.execute("select count(*) from reactions where issue=? and emoji='eyes'", (number,)).fetchone()[0]
        return Issue(number=number, title=title, body=body, labels=tuple(json.loads(labels)), state=state,
                     url=f"local://issues/{number}", author=author, created_at=datetime.fromisoformat(created),
                     updated_at=datetime.fromisoformat(updated), confidential=bool(confidential), eyes=eyes,
                     closed_by=closed_by if state == "closed" else None)

    def _touch(self, number: int) -> None:
        self.db.execute("update issues set updated_at=? where number=?", (self._now(), number))

    # -- reading -------------------------------------------------------------------------------
    def get_issue(self, number: int, *, fresh: bool = False) -> Issue:
        self._count()
        row = self.db.execute("select * from issues where number=?", (number,)).fetchone()
        if row is None:
            raise LookupError(f"no issue #{number}")
        return self._issue(row)

    def list_comments(self, number: int, *, fresh: bool = False) -> list[Comment]:
        self._count()
        rows = self.db.execute("select id, author, body, created_at from comments where issue=? order by id", (number,))
        return [Comment(id=i, author=au, body=b, created_at=datetime.fromisoformat(c)) for i, au, b, c in rows]

    def list_reactions(self, number: int) -> list[Reaction]:
        self._count()
        rows = self.db.execute("select user, emoji, at from reactions where issue=?", (number,))
        return [Reaction(user=u, emoji=e, created_at=datetime.fromisoformat(t)) for u, e, t in rows]

    def label_removed_by(self, number: int, label: str) -> str | None:
        self._count()
        row = self.db.execute("select actor from label_events where issue=? and label=? and action='remove' order by at desc limit 1",
                              (number, label)).fetchone()
        return str(row[0]) if row and row[0] else None

    def label_added_by(self, number: int, label: str) -> tuple[datetime, str] | None:
        self._count()
        row = self.db.execute("select at, actor from label_events where issue=? and label=? and action='add' order by at desc limit 1",
                              (number, label)).fetchone()
        return (datetime.fromisoformat(row[0]), str(row[1])) if row and row[1] else None

    def label_added_at(self, number: int, label: str) -> datetime | None:
        self._count()
        row = self.db.execute("select max(at) from label_events where issue=? and label=? and action='add'", (number, label)).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def releases(self) -> list[Release]:
        self._count()
        rows = self.db.execute("select tag, name, at, url from releases order by at desc limit 10").fetchall()
        return [Release(tag=t, name=n, at=datetime.fromisoformat(a), url=u) for t, n, a, u in rows]

    def add_release(self, tag: str, at: datetime, name: str = "") -> None:
        """A release, as a project's CI would publish one (tests, the demo)."""
        with self.db:
            self.db.execute("insert or replace into releases values (?,?,?,?)",
                            (tag, name or tag, at.astimezone(timezone.utc).isoformat(), f"local://releases/{tag}"))

    def search_open_issues(self, labels: Sequence[str]) -> list[Issue]:
        self._count()
        wanted = set(labels)
        rows = self.db.execute("select * from issues where state='open' order by number").fetchall()
        return [self._issue(r) for r in rows if wanted & set(json.loads(r[4]))]

    def changed_issues(self, since: datetime) -> list[Issue]:
        """One request. Times are stored as ISO strings whose offsets may differ (a clock that is
        not UTC): they are compared as datetimes, not as text."""
        self._count()
        moment = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
        rows = self.db.execute("select * from issues order by number").fetchall()
        return [self._issue(r) for r in rows if _aware(datetime.fromisoformat(r[7])) >= moment]

    def access_of(self, login: str) -> Access:
        self._count()
        row = self.db.execute("select access from members where login=?", (login,)).fetchone()
        return Access(row[0]) if row else Access.NONE

    def find_issue_with_marker(self, marker: str, label: str) -> Issue | None:
        self._count()
        for row in self.db.execute("select * from issues order by number desc limit 100").fetchall():
            issue = self._issue(row)
            if label in issue.labels and marker in issue.body:
                return issue
        return None

    def pinned_issues(self) -> list[Issue]:
        self._count()
        return [self._issue(r) for r in self.db.execute("select * from issues where pinned=1 order by pinned_at").fetchall()]

    # -- writing -------------------------------------------------------------------------------
    def post_comment(self, number: int, body: str) -> Comment:
        self._count()
        now = self._now()
        cur = self.db.execute("insert into comments (issue, author, body, created_at, updated_at) values (?,?,?,?,?)",
                              (number, self.actor, body, now, now))
        self._touch(number)
        self.db.commit()
        return Comment(id=int(cur.lastrowid or 0), author=self.actor, body=body, created_at=datetime.fromisoformat(now))

    def delete_comment(self, number: int, comment_id: int) -> None:
        self._count()
        self.db.execute("delete from comments where id=? and issue=?", (comment_id, number))
        self.db.commit()

    def edit_comment(self, number: int, comment_id: int, body: str) -> None:
        self._count()
        self.db.execute("update comments set body=?, updated_at=? where id=?", (body, self._now(), comment_id))
        self.db.commit()

    def create_issue(self, *, title: str, body: str, labels: Sequence[str], confidential: bool = False,
                     incident: bool = False, assignees: Sequence[str] = ()) -> Issue:
        self._count()
        now = self._now()
        cur = self.db.execute(
            "insert into issues (title, body, state, labels, author, created_at, updated_at, confidential) values (?,?,?,?,?,?,?,?)",
            (title, body, "open", json.dumps(list(dict.fromkeys(labels))), self.actor, now, now, int(confidential)))
        number = int(cur.lastrowid or 0)
        for label in labels:
            self.db.execute("insert into label_events values (?,?,?,?,?)", (number, label, "add", self.actor, now))
        self.db.commit()
        row = self.db.execute("select * from issues where number=?", (number,)).fetchone()
        return self._issue(row)

    def edit_issue_body(self, number: int, body: str) -> None:
        self._count()
        self.db.execute("update issues set body=? where number=?", (body, number))
        self._touch(number)  # as on GitHub and GitLab: an edited body is an update
        self.db.commit()

    def _labels(self, number: int) -> list[str]:
        return list(json.loads(self.db.execute("select labels from issues where number=?", (number,)).fetchone()[0]))

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        self._count()
        current = self._labels(number)
        for label in labels:
            if label not in current:
                current.append(label)
                self.db.execute("insert into label_events values (?,?,?,?,?)", (number, label, "add", self.actor, self._now()))
        self.db.execute("update issues set labels=? where number=?", (json.dumps(current), number))
        self._touch(number)
        self.db.commit()

    def remove_labels(self, number: int, labels: Sequence[str]) -> None:
        self._count()
        current = self._labels(number)
        for label in labels:
            if label in current:
                current.remove(label)
                self.db.execute("insert into label_events values (?,?,?,?,?)", (number, label, "remove", self.actor, self._now()))
        self.db.execute("update issues set labels=? where number=?", (json.dumps(current), number))
        self._touch(number)
        self.db.commit()

    def close_issue(self, number: int) -> None:
        self._count()
        self.db.execute("update issues set state='closed', closed_by=? where number=?", (self.actor, number))
        self._touch(number)
        self.db.commit()

    def reopen_issue(self, number: int) -> None:
        self._count()
        self.db.execute("update issues set state='open' where number=?", (number,))
        self._touch(number)
        self.db.commit()

    def pin_issue(self, number: int) -> PinOutcome:
        self._count()
        if self.db.execute("select pinned from issues where number=?", (number,)).fetchone()[0]:
            return PinOutcome.PINNED
        if self.db.execute("select count(*) from issues where pinned=1").fetchone()[0] >= PIN_LIMIT:
            return PinOutcome.LIMIT_REACHED
        self.db.execute("update issues set pinned=1, pinned_at=? where number=?", (self._now(), number))
        self.db.commit()
        return PinOutcome.PINNED

    def unpin_issue(self, number: int) -> None:
        self._count()
        self.db.execute("update issues set pinned=0, pinned_at=null where number=?", (number,))
        self.db.commit()

    # -- what people do (the demo and tests act through these) ---------------------------------
    # -- the run lock: a primary key makes taking it atomic, as a label name is on a forge ---------
    def take_lock(self, name: str, note: str) -> bool:
        self._count()
        try:
            with self.db:
                self.db.execute("insert into locks values (?, ?)", (name, note))
        except sqlite3.IntegrityError:
            return False
        return True

    def lock_note(self, name: str) -> str | None:
        self._count()
        row = self.db.execute("select note from locks where name=?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def drop_lock(self, name: str) -> None:
        self._count()
        with self.db:
            self.db.execute("delete from locks where name=?", (name,))

    def add_member(self, login: str, access: Access) -> None:
        self.db.execute("insert or replace into members values (?,?)", (login, int(access)))
        self.db.commit()

    def react(self, number: int, user: str, emoji: str) -> None:
        self.db.execute("insert into reactions values (?,?,?,?)", (number, user, emoji, self._now()))
        self._touch(number)
        self.db.commit()

    def is_pinned(self, number: int) -> bool:
        return bool(self.db.execute("select pinned from issues where number=?", (number,)).fetchone()[0])

    def all_comments(self) -> list[tuple[int, str, str]]:
        return list(self.db.execute("select issue, author, body from comments order by id"))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class LocalChat:
    """The sandbox's chat service, in the same sqlite file: threads, edits and reactions."""

    service = "local"
    can_thread = True
    can_read_back = True

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.db = sqlite3.connect(str(path))
        self.db.executescript(SCHEMA)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.requests = 0

    def post(self, channel: Channel, message: ChatMessage, *, thread: ChatRef | None = None) -> ChatRef:
        self.requests += 1
        cur = self.db.execute(
            "insert into chat (channel, thread, headline, body, mentions, status, key, at) values (?,?,?,?,?,?,?,?)",
            (channel.id, thread.ts if thread else None, message.headline, message.body, json.dumps(list(message.mentions)),
             message.status, message.metadata_key, self.clock().isoformat()))
        self.db.commit()
        return ChatRef(self.service, channel.id, str(cur.lastrowid))

    def update(self, ref: ChatRef, message: ChatMessage) -> None:
        self.requests += 1
        self.db.execute("update chat set headline=?, body=?, status=?, edited=edited+1 where id=?",
                        (message.headline, message.body, message.status, int(ref.ts)))
        self.db.commit()

    def react(self, ref: ChatRef, emoji: str) -> None:
        self.requests += 1
        row = self.db.execute("select reactions from chat where id=?", (int(ref.ts),)).fetchone()
        reactions = json.loads(row[0]) if row else []
        if emoji not in reactions:
            reactions.append(emoji)
        self.db.execute("update chat set reactions=? where id=?", (json.dumps(reactions), int(ref.ts)))
        self.db.commit()

    def find(self, channel: Channel, key: str, *, thread: ChatRef | None = None) -> ChatRef | None:
        """The message with `key` in `channel`; given `thread`, only among that thread's replies."""
        self.requests += 1
        if thread is not None:
            row = self.db.execute("select id from chat where channel=? and key=? and thread=?",
                                  (channel.id, key, thread.ts)).fetchone()
        else:
            row = self.db.execute("select id from chat where channel=? and key=?", (channel.id, key)).fetchone()
        return ChatRef(self.service, channel.id, str(row[0])) if row else None

    def messages(self) -> list[dict[str, object]]:
        cols = ("id", "channel", "thread", "headline", "body", "mentions", "status", "key", "reactions", "edited", "at")
        rows = self.db.execute(f"select {', '.join(cols)} from chat order by id")
        return [dict(zip(cols, r)) for r in rows]
