"""The shell around the pure core: read what the plan needs from the forge, plan, apply.

`handle` reacts to one forge event; `tick` is the scheduled run over every active incident.
Both work the same on GitHub, GitLab and the local forge: they only use the Forge interface.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from bot.actions import SaveStatusIndex
from bot.errors import ServiceError
from bot.events import Event, EventKind
from bot.executor import Executor, Outcome, channel_of
from bot.incident import ACTIVE
from bot.ledger import (
    STATUS_RE,
    Ledger,
    closed_not_resolved,
    decode_ledger,
    outage_source,
    status_data,
    status_marker,
)
from bot.planner import (
    CHAT_RESOLVED,
    ForgeInfo,
    Plan,
    command_in,
    escalations_due,
    plan,
    plan_chat_group,
    plan_drill_reminder,
    plan_gap_notice,
    plan_handoffs,
    route,
)
from bot.policy import DRILL_LABEL, Person, Policy
from bot.ports import Forge, Notifier
from bot.records import Access, ChatReply, ChatRoot, Comment, Issue, Release
from bot.render import Renderer
from bot.run_lock import RunLock
from bot.status_index import (
    HEARTBEAT,
    Entry,
    Index,
    confidential,
    entry_for,
    hooks_check_due,
    merge,
    needs_look,
    postmortem_looked_at,
    postmortems_due,
    record_resolved,
    shown,
    split,
)

# A tick lists the issues changed in this window: the status issue is written at least every
# HEARTBEAT, so it is in it while ticks run; the margin covers a late tick and search lag.
LOOKBACK = HEARTBEAT + timedelta(minutes=10)

# The shipped GitHub wiring's scheduled workflow (bot/wiring/github-tick-workflow.yml).
TICK_WORKFLOW = "outage-bot-tick.yml"

# How often the tick gives the labels GitHub made on the fly (grey) their colours.
PAINT_EVERY = timedelta(days=1)

# A root alert's key in chat: "<source>:g<generation>:chat:<channel>" as posted, then the key of
# the edit that last changed it (chat.update replaces a message's metadata), e.g.
# "<source>:g<generation>:ack:chat:<channel>:root".
ROOT_KEY = re.compile(r"^(\d+):g(\d+):")

# The confidential status issue (GitLab): where confidential incidents are indexed, out of sight.
PRIVATE_INDEX_TITLE = "outage-bot: confidential incidents (members only)"

Log = Callable[[str], None]
# A run that finds another at work on the same incident waits this long between looks, this
# many times (about a minute), before leaving the rest to the next run.
BUSY_WAIT = 2.0
BUSY_TRIES = 30
Loaded = tuple[Ledger | None, Comment | None, list[Comment]]  # the ledger, its comment, all comments


@dataclass
class Report:
    """What a run did: lines for the log, failures for the exit code."""

    lines: list[str] = field(default_factory=list)
    failures: list[ServiceError] = field(default_factory=list)
    plans: list[tuple[int, Plan, Outcome]] = field(default_factory=list)
    lost_events: int = 0  # labeled issues the tick had to declare: their event never arrived

    def add(self, number: int, planned: Plan, outcome: Outcome) -> None:
        self.plans.append((number, planned, outcome))
        self.failures.extend(outcome.failures)
        for note in planned.notes:
            self.lines.append(f"#{number}: {note}")
        for line in outcome.performed:
            self.lines.append(f"#{number}:   {line}")


class Runner:
    drill = False  # bot.drill.DrillRunner: the one runner that acts on a drill's issue

    def __init__(self, forge: Forge, notifiers: Mapping[str, Notifier], policy: Policy, renderer: Renderer, *,
                 now: datetime, dry_run: bool = False, log: Log = lambda _: None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.forge = forge
        self.notifiers = notifiers
        self.policy = policy
        self.renderer = renderer
        self.now = now
        self.dry_run = dry_run
        self.log = log
        self.sleep = sleep
        self.info = ForgeInfo(forge.name, forge.capabilities)
        self._login: str | None = None
        self._trust: dict[str, bool] = {}  # login -> may acknowledge/resolve, asked once a run
        self._executor: Executor | None = None
        self.run_id = uuid.uuid4().hex[:12]  # this run, in the lock and the leases it takes
        self.lock = RunLock(forge, run_id=self.run_id, now=now, sleep=sleep, log=log)
        self._lock_refused: ServiceError | None = None
        self._release_list: tuple[Release, ...] | None = None
        # Further parts of the tick, run after the incidents (the CLI adds bot.watch.run.watch
        # when the policy has probes or upstreams): each takes and returns the status index.
        self.phases: list[Callable[[Runner, Index, Report], Index]] = []

    @property
    def bot_login(self) -> str | None:
        """Who the token writes as, asked of the forge only when first needed: on GitLab it
        costs a request, and most runs that end early never need it."""
        if self._login is None:
            self._login = getattr(self.forge, "bot_login", None) or ""
        return self._login or None

    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = Executor(self.forge, self.notifiers, self.policy, self.renderer, now=self.now, dry_run=self.dry_run,
                        log=self.log, sleep=self.sleep, by_bot=lambda login: self._by_bot_login(login), run_id=self.run_id)
        return self._executor

    # -- the ledger -----------------------------------------------------------------------------
    def _by_bot_login(self, login: str) -> bool:
        # Only the bot's own comments and issues are trusted as state: anyone can paste a marker.
        return self.bot_login is None or login.lower() == self.bot_login.lower()

    def _by_bot(self, comment: Comment) -> bool:
        return self._by_bot_login(comment.author)

    def load(self, source: int, *, fresh: bool = False) -> tuple[Ledger | None, Comment | None, list[Comment]]:
        comments = self.forge.list_comments(source, fresh=fresh)
        for comment in comments:
            if self._by_bot(comment):
                ledger = decode_ledger(comment.body)
                if ledger is not None:
                    return ledger, comment, comments
        return None, None, comments

    def _trusted(self, login: str) -> bool:
        """May `login` acknowledge or resolve? The policy's people, or triage (GitHub) /
        reporter (GitLab) access or better. The same rule for every way of doing it."""
        if not login:
            return False
        if login not in self._trust:
            forge = self.forge.name if self.forge.name != "local" else "github"
            self._trust[login] = bool(self.policy.person_by_handle(forge, login)) or self._by_bot_login(login) and self.bot_login is not None \
                or self.forge.access_of(login) >= Access.TRIAGE
        return self._trust[login]

    def _asks_permission(self, event: Event) -> bool:
        """Would this event acknowledge or resolve? Only then is the forge asked about the actor."""
        policy = self.policy
        if event.kind == EventKind.COMMENTED:
            return event.comment is not None and command_in(event.comment.body) is not None
        if event.kind == EventKind.REACTED:
            return event.emoji == "eyes"
        if event.kind == EventKind.CLOSED:
            return True
        return policy.labels.acknowledged in event.added() or bool(set(event.removed()) & set(policy.all_severity_labels()))

    def _run(self, event: Event, source: int, report: Report, loaded: tuple[Ledger | None, Comment | None, list[Comment]] | None = None,
             *, stale_since: datetime | None = None) -> Ledger | None:
        ledger, comment, comments = loaded or self.load(source)
        for _attempt in range(BUSY_TRIES):
            incident = ledger.incident if ledger else None
            if incident and incident.active and not event.actor_trusted and self._asks_permission(event):
                event = replace(event, actor_trusted=self._trusted(event.actor))
            planned = plan(event, incident, self.now, self.policy, self.info, stale_since=stale_since,
                           releases=self._releases(event) if incident is None or not incident.active else ())
            if not planned.actions and (ledger is None or not ledger.outbox):
                report.add(source, planned, Outcome(ledger=ledger))
                return ledger
            if ledger is not None and not self.lock.held and not self.dry_run:
                # Writing to an incident that exists: only under the run lock, from its ledger
                # as read under it (another run may have written since this one read it).
                if not self._hold_lock():
                    report.lines.append(f"#{source}: another run held the run lock too long; the next run or tick does this")
                    return ledger
                ledger, comment, comments = self.load(source, fresh=True)
                continue
            outcome = self.executor().apply(planned, ledger, comment, comments)
            if not outcome.busy:
                break
            # Another run is carrying out this incident's actions: wait for it, then plan again
            # from what it wrote (most often there is nothing left to do).
            self.sleep(BUSY_WAIT)
            ledger, comment, comments = self.load(source, fresh=True)
        else:
            report.lines.append(f"#{source}: another run is still at work on this incident; the next run or tick picks up what is left")
            return ledger
        if outcome.lost_race:
            report.lines.append(f"#{source}: another run declared this incident at the same moment: left to it")
            return outcome.ledger
        report.add(source, planned, outcome)
        ended = ledger is not None and ledger.incident.active and outcome.ledger is not None and not outcome.ledger.incident.active
        if ended and not outcome.failures and self.forge.capabilities.incident_issue_type and not self.dry_run:
            self._incident_timeline(source, report)
        return outcome.ledger

    def _incident_timeline(self, source: int, report: Report) -> None:
        """GitLab shows an incident's timeline in its own view: once the incident is resolved,
        the bot's record of it is added there (bot.timeline; only the entries missing, so a run
        again adds nothing). Not needed for anything else: a failure is only said."""
        from bot.errors import UserError
        from bot.timeline_forge import run_timeline

        try:
            lines = run_timeline(self.forge, self.policy, source, now=self.now, to_gitlab=True)
        except (ServiceError, UserError, LookupError) as exc:
            report.lines.append(f"#{source}: the incident's timeline was not added to GitLab's: {exc}")
            return
        report.lines.append(f"#{source}: {lines[-1]}")

    def _releases(self, event: Event) -> tuple[Release, ...]:
        """The repository's latest releases, when the issue is of a regression kind (its alert
        names the last known good): one request, once a run. Unreadable: the alert goes anyway."""
        kind = self.policy.kind_of(event.issue.labels)
        if kind is None or not self.policy.kinds[kind].regression:
            return ()
        if self._release_list is None:
            try:
                self._release_list = tuple(self.forge.releases())
            except ServiceError as exc:
                self.log(f"releases: {exc.detail}; the alert names no release")
                self._release_list = ()
        return self._release_list

    # -- the run lock ---------------------------------------------------------------------------
    def _hold_lock(self) -> bool:
        """Hold the run lock from now to the end of the run (bot.run_lock); False when another
        run kept it past the wait. A dry run writes nothing and needs none."""
        if self.dry_run or self.lock.held:
            return True
        if self._lock_refused is None and not self.lock.acquire():
            self._lock_refused = ServiceError(
                self.forge.name, "the run lock", f"another run held it for {self.lock.waited:.0f} s",
                hint="nothing was written to incidents that exist; the next run or tick does it")
        return self.lock.held

    def _locked(self, run: Callable[[Report], Report]) -> Report:
        report = Report()
        try:
            return run(report)
        finally:
            try:
                self.lock.release()
            except ServiceError as exc:  # it expires on its own (run_lock.HOLD)
                report.failures.append(exc)
            if self._lock_refused is not None:
                report.failures.append(self._lock_refused)

    # -- one event ------------------------------------------------------------------------------
    def handle(self, event: Event) -> Report:
        return self._locked(lambda report: self._handle(event, report))

    def _handle(self, event: Event, report: Report) -> Report:
        issue = event.issue
        if STATUS_RE.search(issue.body or "") and self._bot_issue(issue):
            report.lines.append(f"#{issue.number} is the status issue: nothing to do")
            return report
        if event.kind == EventKind.COMMENTED and event.comment and self.bot_login and event.comment.author.lower() == self.bot_login.lower():
            report.lines.append("a comment of the bot's own: nothing to do")
            return report
        if DRILL_LABEL in issue.labels and not self.drill:
            report.lines.append(f"#{issue.number} is a drill's issue: left to `outage-bot drill`")
            return report
        source = self._outage_source(issue)
        number = source if source is not None else issue.number
        if self._asks_permission(event) and (event.actor_trusted or self._trusted(event.actor)):
            # Someone who may acknowledge or resolve does: it writes to an incident that exists,
            # so the lock first and one read under it (not a read, the lock, and the read again).
            # Anyone else's reaction or label costs no lock: it changes nothing.
            event = replace(event, actor_trusted=True)
            self._hold_lock()
        before = self.load(number)
        ledger = self._run(event, number, report, before)
        stranger_closed = ledger is not None and closed_not_resolved(ledger) and not (before[0] and closed_not_resolved(before[0]))
        self._status_after_event(event, before[0], ledger, report, stranger_closed=stranger_closed)
        return report

    def _status_after_event(self, event: Event, before: Ledger | None, ledger: Ledger | None, report: Report, *,
                            stranger_closed: bool) -> None:
        """After an event run: the incident indexed now where people watch the status issue
        (GitLab; and a stranger's close, which takes it out of the tick's listing), and, from a
        run that acted on an incident, whether ticks are overdue. One read of the status issue
        for both; a run that acted on nothing reads nothing."""
        index_it = ledger is not None and not self.dry_run and not report.failures and (stranger_closed or self._status_news(before, ledger))
        acted = any(planned.actions for _, planned, _ in report.plans)
        if not index_it and not (acted and not self.dry_run):
            return
        statuses = self._status_issues(self.forge.search_open_issues([self.policy.labels.status]))
        index, public_issue, private_issue = self._read_index(statuses)
        updated = index
        if index_it and ledger is not None:
            source = event.issue if event.issue.number == ledger.incident.source else self.forge.get_issue(ledger.incident.source)
            updated = self._index_update(updated, source.number, source, ledger, source_closed=stranger_closed)
        updated = self._overdue_ticks(updated, report)
        if updated != index:
            self._save_split(index, updated, public_issue, private_issue, report)

    def _overdue_ticks(self, index: Index, report: Report) -> Index:
        """Ticks overdue (none recorded for `ticks.overdue`): the team is told once per gap,
        from an event run, since a stopped schedule runs no tick that could say it. On GitHub
        the tick's workflow is re-enabled when GitHub disabled it and the token may. The key is
        the gap's start, so the tick that ends the gap, and every other run, says nothing more."""
        last = index.last_tick
        if last is None or self.now - last <= self.policy.ticks.overdue():
            return index
        if not plan_gap_notice(self.policy, last, self.now, self.forge.name, index.done, ongoing=True):
            return index  # told already
        if not self._hold_lock():
            return index  # another run holds it: the next run says it
        outcome = Outcome()
        schedule = self.executor().enable_schedule(TICK_WORKFLOW, outcome)  # the notice says what it found
        notices = plan_gap_notice(self.policy, last, self.now, self.forge.name, index.done, ongoing=True, schedule=schedule)
        done = self.executor().post_notices(notices, outcome)
        report.failures.extend(outcome.failures)
        report.lines.extend(f"ticks overdue: {line}" for line in outcome.performed)
        return replace(index, done=index.done | frozenset(done), gap=(last, self.now))

    def _status_news(self, before: Ledger | None, after: Ledger) -> bool:
        """Where the forge cannot pin the outage notice (GitLab), the status issue is where
        people watch: an event run that declares, acknowledges, resolves or changes the
        severity of an incident writes it at once, not at the next tick."""
        if self.forge.capabilities.pinning:
            return False  # the pinned outage issue says it at once; the tick keeps the index
        if before is None or before.outbox:  # new, or a run cut half way that this one finished
            return True
        old, new = before.incident, after.incident
        return (old.status, old.severity, old.generation) != (new.status, new.severity, new.generation)

    def _stored(self, index: Index) -> tuple[Index, Index | None]:
        public, private = split(index)
        return public, private if self.forge.capabilities.confidential_issues else None

    def _save_split(self, before: Index, index: Index, public_issue: Issue | None, private_issue: Issue | None, report: Report) -> None:
        (public, private), (public_before, private_before) = split(index), split(before)
        keep_private = self.forge.capabilities.confidential_issues
        public = replace(public, has_private=keep_private and (private_issue is not None or private != Index()))
        if public != public_before:
            self._save_index(public_issue, public, report)
        # The confidential index is written with the heartbeat too, so the tick finds it among
        # the issues changed lately.
        heartbeat = public.last_tick != public_before.last_tick
        if keep_private and (private != private_before or heartbeat and private_issue is not None):
            self._save_index(private_issue, private, report, confidential=True)

    def _bot_issue(self, issue: Issue) -> bool:
        return self._by_bot_login(issue.author)

    def _status_issues(self, issues: list[Issue]) -> list[Issue]:
        """The bot's status issues among `issues`: a marker in anyone else's is not believed."""
        status = self.policy.labels.status
        return [i for i in issues if i.is_open and status in i.labels and STATUS_RE.search(i.body) and self._bot_issue(i)]

    @staticmethod
    def _read_index(statuses: list[Issue]) -> tuple[Index, Issue | None, Issue | None]:
        """The index the public status issue and (GitLab) the confidential one hold, merged;
        and the two issues."""
        public = next((i for i in statuses if not i.confidential), None)
        private = next((i for i in statuses if i.confidential), None)
        index = merge(Index.from_data(status_data(public.body) if public else None),
                      Index.from_data(status_data(private.body) if private else None))
        return index, public, private

    def _outage_source(self, issue: Issue) -> int | None:
        """The incident an outage issue of the bot's belongs to; None for any other issue.
        The marker is looked at first: knowing the bot's login may cost a request."""
        source = outage_source(issue.body)
        return source if source is not None and self._bot_issue(issue) else None

    # -- the scheduled run --------------------------------------------------------------------------
    def tick(self) -> Report:
        return self._locked(self._tick)

    def _tick(self, report: Report) -> Report:
        policy = self.policy
        listed, complete, statuses = self._listing()
        index, status_issue, private_issue = self._read_index(statuses)
        before = index
        open_sources = {i.number: i for i in listed if i not in statuses and i.is_open and policy.severity_of(i.labels)
                        and self._outage_source(i) is None and DRILL_LABEL not in i.labels}
        secret_search = not complete and self._secret_due(index)
        if secret_search:
            # GitHub keeps no index of confidential incidents: list them when one is due.
            found = self.forge.search_open_issues(self._secret_labels())
            listed = listed + [i for i in found if i.number not in {x.number for x in listed}]
            open_sources.update({i.number: i for i in found if policy.severity_of(i.labels) and self._outage_source(i) is None})
        touched = {i.number for i in listed}
        if not complete:
            # Only what changed was listed: an incident whose issue did not change is read when
            # something is due, from its index entry (its issue is as the bot last saw it).
            for number, seen in index.entries.items():
                if number not in touched and not seen.source_closed and seen.next_due is not None and seen.next_due <= self.now:
                    open_sources[number] = self._as_seen(number, seen)
        outage_changed = {} if complete else self._changed_outage_issues(listed, index, open_sources)
        index = self._closed_outage_issues(listed, index, open_sources, report)
        outages = self._outage_issues(index, new=any(n not in index.entries and n not in index.quiet for n in open_sources))
        stale = index.last_tick is not None and self.now - index.last_tick > policy.ticks.overdue()

        for number, issue in open_sources.items():
            severity = policy.severity_of(issue.labels)
            entry = index.entries.get(number)
            outage = outages.get(number)
            if not stale and number not in outage_changed \
                    and not needs_look(entry, issue, severity, self.now, outage=outage, quiet_since=index.quiet.get(number)):
                continue
            if stale or entry is None or entry.next_due is not None and entry.next_due <= self.now:
                # Something is due (or new): the lock first, so the ledger is read under it.
                # A look at a changed issue mostly writes nothing: `_run` takes it if needed.
                self._hold_lock()
            ledger = self._tick_incident(issue, report, stale_since=index.last_tick if stale else None, outage=outage,
                                         seen=entry.seen if entry else None, outage_changed=outage_changed.get(number))
            index = self._index_update(index, number, issue, ledger, outage)
        # a resolved issue that lost its label or was closed needs no more remembering
        index = replace(index, quiet={n: t for n, t in index.quiet.items() if n in open_sources or not complete and n not in touched})
        # incidents the index lists whose issue is no longer open with a severity label
        for number in [n for n in index.entries if n not in open_sources]:
            entry = index.entries[number]
            due = entry.next_due is not None and entry.next_due <= self.now
            if entry.source_closed and not due:
                continue  # closed by someone who may not resolve: the timers still run, when due
            if not complete and number not in touched and not entry.source_closed:
                continue  # unchanged since the bot last looked
            try:
                issue = self.forge.get_issue(number)
            except LookupError:  # the issue is gone (deleted, moved)
                index = replace(index, entries={k: v for k, v in index.entries.items() if k != number})
                continue
            except ServiceError as exc:  # keep the entry: look again next tick
                report.failures.append(exc)
                continue
            self._hold_lock()
            loaded = self.load(number)
            if loaded[0] is not None and closed_not_resolved(loaded[0]):
                ledger = self._tick_incident(issue, report, stale_since=index.last_tick if stale else None, loaded=loaded)
                index = self._index_update(index, number, issue, ledger, source_closed=True)
                continue
            kind = EventKind.CLOSED if not issue.is_open else EventKind.UNLABELED
            removed = tuple(policy.severities[entry.severity].labels)
            # The event was lost: the same permission rule, for whoever the forge says closed it
            # or removed the label. Nobody named (a forge that does not say) may not end it.
            if kind == EventKind.CLOSED:
                actor = issue.closed_by
            else:
                actor = next((who for label in removed if (who := self.forge.label_removed_by(number, label))), None)
            event = Event(kind=kind, issue=issue, actor=actor or "", at=min(issue.updated_at, self.now), labels_removed=removed)
            ledger = self._run(event, number, report, loaded)
            index = self._index_update(index, number, issue, ledger, source_closed=True)

        for phase in self.phases:
            index = phase(self, index, report)
        index = self._chat_reactions(index, open_sources, report)
        index = self._secret_next_due(index, before, every_one_seen=complete or secret_search)
        index = self._postmortems(index, report)
        index = self._handoffs(index, report, gap_since=before.last_tick if stale else None)
        index = self._check_hooks(index, report, lost_event=report.lost_events > 0)
        index = self._paint_labels(index)
        # What would be written: the public index, and the private one where the forge keeps it
        # (GitHub has no confidential issue to keep it in, so its changes are no reason to write).
        if self._stored(index) != self._stored(before) or self._heartbeat_due(before):
            index = replace(index, last_tick=self.now)
            if self.lock.held and self.lock.waited:
                index = self._added_meanwhile(index, before, status_issue, private_issue)
            self._save_split(before, index, status_issue, private_issue, report)
        report.lines.append(f"tick at {self.now.isoformat()}: {len(open_sources)} open incident issue(s)")
        return report

    def _added_meanwhile(self, index: Index, before: Index, public: Issue | None, private: Issue | None) -> Index:
        """The index was read before this tick took the run lock, and it had to wait for it:
        the run it waited for may have indexed an incident (`_status_after_event`). Read the status
        issues again, under the lock, and keep what was added meanwhile."""
        statuses = [self.forge.get_issue(i.number, fresh=True) for i in (public, private) if i is not None]
        now, _, _ = self._read_index(self._status_issues(statuses))
        added = {n: e for n, e in now.entries.items() if n not in before.entries and n not in index.entries}
        return replace(index, entries={**index.entries, **added}) if added else index

    def _listing(self) -> tuple[list[Issue], bool, list[Issue]]:
        """(issues, complete, the bot's status issues). Where the forge can say what changed,
        only the issues updated in the last LOOKBACK: one request, whatever the number of
        incidents. The status issue is written at least every HEARTBEAT, so it is among them
        while ticks run; when it is not (the first tick, a long gap), every open labeled issue
        is listed instead. A marker in anyone else's issue is not believed."""
        policy = self.policy
        changed_since = getattr(self.forge, "changed_issues", None)
        if changed_since is not None:
            changed = changed_since(self.now - LOOKBACK)
            statuses = self._status_issues(changed)
            public = next((i for i in statuses if not i.confidential), None)
            private_expected = public is not None and (Index.from_data(status_data(public.body)).has_private
                                                      and self.forge.capabilities.confidential_issues)
            if public is not None and (not private_expected or any(i.confidential for i in statuses)):
                return changed, False, statuses
        listed = self.forge.search_open_issues(policy.all_severity_labels() + [policy.labels.status])
        return listed, True, self._status_issues(listed)

    def _changed_outage_issues(self, listed: list[Issue], index: Index, open_sources: dict[int, Issue]) -> dict[int, Issue]:
        """Open outage issues of active incidents changed since the last tick, by source: their
        comments are read for commands whose event run was lost. The incident is looked at even
        if its own issue did not change."""
        changed: dict[int, Issue] = {}
        if index.last_tick is None:
            return changed
        for outage in listed:
            source = self._outage_source(outage) if outage.is_open else None
            entry = index.entries.get(source) if source is not None else None
            if source is None or entry is None or entry.status not in ACTIVE or entry.source_closed \
                    or entry.outage_issue != outage.number or outage.updated_at <= index.last_tick:
                continue
            changed[source] = outage
            open_sources.setdefault(source, self._as_seen(source, entry))
        return changed

    def _closed_outage_issues(self, listed: list[Issue], index: Index, open_sources: dict[int, Issue], report: Report) -> Index:
        """An outage issue of an active incident, closed lately: if its event was lost, the
        close is applied now, judged by who the forge says closed it (a run that did see it
        left the incident resolved, and this plans nothing)."""
        for outage in listed:
            source = None if outage.is_open else self._outage_source(outage)
            entry = index.entries.get(source) if source is not None else None
            if source is None or entry is None or entry.status not in ACTIVE or entry.outage_issue != outage.number:
                continue  # (an earlier generation's outage issue, closed long ago, is not this one)
            closed = self.forge.get_issue(outage.number)  # whole: who closed it
            if closed.closed_by and self.bot_login and self._by_bot_login(closed.closed_by):
                # The bot closes an outage issue only while resolving: a run cut after that
                # close left the resolution half done, and what resolved it (a command, a ✅)
                # is seen again and finishes it. The close itself is nobody's resolution.
                continue
            event = Event(kind=EventKind.CLOSED, issue=closed, actor=closed.closed_by or "", at=min(closed.updated_at, self.now))
            self._hold_lock()
            loaded = self.load(source)
            ledger = self._run(event, source, report, loaded)
            if ledger is not loaded[0] or source not in open_sources:  # (else the listing's turn comes next)
                issue = open_sources.get(source) or self._as_seen(source, entry)
                index = self._index_update(index, source, issue, ledger, source_closed=entry.source_closed)
        return index

    def _secret_labels(self) -> list[str]:
        kinds = [k for k in self.policy.kinds.values() if k.confidential]
        return list(dict.fromkeys(label for k in kinds for label in k.labels))

    def _secret_due(self, index: Index) -> bool:
        if self.forge.capabilities.confidential_issues or not self._secret_labels():
            return False
        return index.private_due is not None and index.private_due <= self.now

    def _secret_next_due(self, index: Index, before: Index, *, every_one_seen: bool) -> Index:
        """Where confidential incidents are indexed nowhere: the earliest time one of them next
        needs the bot (from those read this tick; when not all were, the earlier time stands)."""
        if self.forge.capabilities.confidential_issues:
            return index
        times = [e.next_due for e in index.entries.values() if e.confidential and e.next_due is not None]
        if not every_one_seen and before.private_due is not None and before.private_due > self.now:
            times.append(before.private_due)
        return replace(index, private_due=min(times, default=None))

    def _as_seen(self, number: int, entry: Entry) -> Issue:
        """An incident's issue as the bot last saw it, from its index entry: not changed since."""
        labels = tuple(self.policy.severities[entry.severity].labels[:1])
        return Issue(number=number, title=entry.title, body="", labels=labels, state="open", url=entry.url, author="",
                     created_at=entry.declared_at, updated_at=entry.seen, eyes=entry.eyes)

    def _outage_issues(self, index: Index, *, new: bool) -> dict[int, Issue]:
        """The open outage issues by source, with their 👀 counts, on a forge without reaction
        events: one search for all of them, only when something is due on an incident not yet
        acknowledged (nobody is paged before a look for 👀) or an incident is new to the index.
        A quiet tick stays one request; 👀 on the reported issue is counted by the listing
        itself, and 👀 on the outage issue is seen when the next timer comes due."""
        if not self.forge.capabilities.polled_reactions:
            return {}
        awaiting = [e for e in index.entries.values() if e.status == "active" and e.outage_issue]
        due = any(e.next_due is not None and e.next_due <= self.now for e in awaiting)
        if not (due or new):
            return {}
        listed = self.forge.search_open_issues([self.policy.labels.active])
        return {source: i for i in listed if (source := self._outage_source(i)) is not None}

    def _check_hooks(self, index: Index, report: Report, *, lost_event: bool) -> Index:
        """GitLab disables a webhook after failed deliveries, and then no event reaches the bot:
        say so in the log and on the status issue (the tick still declares what it finds)."""
        check = getattr(self.forge, "webhook_problem", None)
        if check is None or not hooks_check_due(index, self.now, lost_event=lost_event):
            return index
        problem = check()
        if problem:
            report.lines.append(f"webhook: {problem}; the scheduled run still finds labeled issues, late")
        return replace(index, hooks_checked=self.now, hook_problem=problem)

    def _paint_labels(self, index: Index) -> Index:
        """Colours for the labels GitHub made on the fly (grey), once a day, on a tick that
        writes the status issue anyway: looks cost an event run nothing."""
        paint = getattr(self.forge, "paint_labels", None)
        if paint is None or self.dry_run or not self._heartbeat_due(index) or not index.entries \
                or (index.labels_painted is not None and self.now - index.labels_painted < PAINT_EVERY):
            return index
        policy = self.policy
        names = policy.all_severity_labels() + [lb for k in policy.kinds.values() for lb in k.labels]
        names += [lb for s in policy.severities.values() if s.outage_issue for lb in s.outage_issue.labels]
        paint(list(dict.fromkeys(names + [policy.labels.active, policy.labels.acknowledged, policy.labels.status])))
        return replace(index, labels_painted=self.now)

    def _heartbeat_due(self, index: Index) -> bool:
        return index.last_tick is None or self.now - index.last_tick >= HEARTBEAT

    def _commands_since(self, issue: Issue, loaded: Loaded, report: Report, *, since: datetime | None,
                        on: Issue | None = None) -> Loaded:
        """Commands in comments since the bot last read this issue (or its outage issue, `on`),
        applied as their event run would have (a cancelled or failed run loses nothing).
        Replaying one that was handled plans keys already done: no write. Only this
        generation's comments count."""
        ledger = loaded[0]
        if ledger is None or not ledger.incident.active:
            return loaded
        start = max(ledger.incident.declared_at, since) if since else ledger.incident.declared_at
        comments = loaded[2] if on is None else self.forge.list_comments(on.number)
        for comment in sorted(comments, key=lambda c: c.created_at):
            if comment.created_at < start or self._by_bot(comment) and self.bot_login or command_in(comment.body) is None:
                continue
            event = Event(kind=EventKind.COMMENTED, issue=on or issue, actor=comment.author, at=comment.created_at, comment=comment)
            after = self._run(event, issue.number, report, loaded)
            if after is not loaded[0] and not self.dry_run:
                loaded = self.load(issue.number)
            if after is None or not after.incident.active:
                break
        return loaded

    def _tick_incident(self, issue: Issue, report: Report, *, stale_since: datetime | None, outage: Issue | None = None,
                       loaded: Loaded | None = None, seen: datetime | None = None,
                       outage_changed: Issue | None = None) -> Ledger | None:
        loaded = loaded or self.load(issue.number)
        ledger = loaded[0]
        if ledger is None:
            # A severity label with no incident: an event was lost (webhook disabled, run not
            # started). Declare now, counting the deadline from when the label went on.
            severity = self.policy.severity_of(issue.labels)
            label = next((lb for lb in issue.labels if severity and lb in self.policy.severities[severity].labels), None)
            at = (self.forge.label_added_at(issue.number, label) if label else None) or issue.created_at
            event = Event(kind=EventKind.TICK, issue=issue, actor="outage-bot", at=min(at, self.now))
            report.lost_events += 1
            return self._run(event, issue.number, report, loaded)
        incident = ledger.incident
        if incident.status == "active":
            ledger = self._eyes(issue, ledger, loaded, report, outage) or ledger
            loaded = self.load(issue.number) if ledger is not loaded[0] and not self.dry_run else loaded
            loaded = self._acknowledged_label(issue, loaded, report)
        loaded = self._commands_since(issue, loaded, report, since=seen)
        if outage_changed is not None:
            loaded = self._commands_since(issue, loaded, report, since=seen, on=outage_changed)
        # `at`: when the issue last changed, so a relabel or reopen whose event was lost counts
        # from then (timers use the tick's own clock)
        event = Event(kind=EventKind.TICK, issue=issue, actor="outage-bot", at=min(issue.updated_at, self.now))
        return self._run(event, issue.number, report, loaded, stale_since=stale_since)

    def _acknowledged_label(self, issue: Issue, loaded: Loaded, report: Report) -> Loaded:
        """The acknowledged label on an incident still unacknowledged: its event was lost (or
        whoever added it may not acknowledge). Applied as the event would have been, for
        whoever the forge says added it."""
        ledger, label = loaded[0], self.policy.labels.acknowledged
        if ledger is None or ledger.incident.status != "active" or label not in issue.labels:
            return loaded
        added = self.forge.label_added_by(issue.number, label)
        if added is None:
            return loaded
        at, who = added
        event = Event(kind=EventKind.LABELED, issue=issue, actor=who, at=min(at, self.now), label=label, labels_added=(label,))
        after = self._run(event, issue.number, report, loaded)
        return self.load(issue.number) if after is not ledger and not self.dry_run else loaded

    def _eyes(self, issue: Issue, ledger: Ledger, loaded: tuple, report: Report, outage: Issue | None) -> Ledger | None:
        """👀 has no webhook on GitHub: the tick looks for it, on the reported issue and on the
        outage issue (where the team is told to react), and acknowledges. Only issues whose
        listing counted a 👀 are asked for their reactions."""
        watched = [i.number for i in (issue, outage) if i is not None and (i.eyes or 0) > 0]
        incident = ledger.incident
        counted = issue.eyes is not None and (outage is not None or incident.outage_issue is None)
        polled = self.forge.capabilities.polled_reactions  # GitLab sends emoji events instead
        if polled and not counted and any(key not in ledger.done for key in escalations_due(incident, self.policy, self.now)):
            # Before anyone is paged, look on both issues when a listing did not count their
            # 👀 (a reaction changes no updated_at, and the first tick has no count to compare).
            watched = [issue.number] + ([incident.outage_issue] if incident.outage_issue else [])
        if not watched:
            return None
        bot = (self.bot_login or "").lower()
        reactions = [r for n in dict.fromkeys(watched) for r in self.forge.list_reactions(n) if r.emoji == "eyes" and r.user.lower() != bot]
        # The earliest 👀 by someone who may acknowledge; a passer-by's "me too" is ignored.
        first = next((r for r in sorted(reactions, key=lambda r: r.created_at or self.now) if self._trusted(r.user)), None)
        if first is None:
            return None
        event = Event(kind=EventKind.REACTED, issue=issue, actor=first.user, at=first.created_at or self.now, emoji="eyes",
                      actor_trusted=True)
        return self._run(event, issue.number, report, loaded)

    def _index_update(self, index: Index, number: int, issue: Issue, ledger: Ledger | None, outage: Issue | None = None,
                      *, source_closed: bool = False) -> Index:
        if ledger is None:
            return index
        if not ledger.incident.active:
            labeled = issue.is_open and self.policy.severity_of(issue.labels) is not None
            return record_resolved(index, number, ledger.incident, still_labeled=max(issue.updated_at, self.now) if labeled else None,
                                   secret=confidential(ledger.incident, self.policy))
        entries = dict(index.entries)
        entries[number] = replace(entry_for(ledger.incident, issue, self.policy, self.now, outage), source_closed=source_closed)
        if ledger.outbox:  # something failed: look again next tick
            entries[number] = replace(entries[number], next_due=self.now)
        return replace(index, entries=entries)

    def _chat_reactions(self, index: Index, open_sources: dict[int, Issue], report: Report) -> Index:
        """Meltano's process happens in Slack: 👀 on the alert means "I'm on it", ✅ means
        resolved, and the team talks in its thread. A CI job has no Events API endpoint, so the
        tick reads them: one page of each team channel's history (the bot's root alerts since the
        oldest active incident began, reactions and the newest reply's time included), and an
        alert's thread once, when it has a new reply or a ✅ (whose note is the resolver's latest
        reply). Only the policy's people count (by their `slack` id): the same rule as the forge's."""
        active = {n: e for n, e in index.entries.items() if e.status in ACTIVE}
        if not active:
            return index
        policy = self.policy
        since = min(e.declared_at for e in active.values()) - timedelta(minutes=1)
        people = {p.slack: (pid, p) for pid, p in policy.people.items() if p.slack}
        # the team channels these incidents' alerts went to: their severity's, and a kind's of
        # the same confidentiality (a confidential kind has only its own)
        routed: set[str] = set()
        for e in active.values():
            if not e.confidential:
                routed.update(route(policy, e.severity, None))
            routed.update(c for k in policy.kinds.values() if k.confidential == e.confidential for c in k.notify)
        # source -> generation, and what to apply: the replies to copy, then the reaction (the
        # first root alert of an incident that has each)
        found: dict[int, tuple[int, Event | None, Event | None]] = {}
        for cid in [c for c in policy.channels if c in routed and policy.channel_audience(c) == "team"]:
            notifier = self.notifiers.get(cid)
            recent = getattr(notifier, "recent_roots", None)
            if notifier is None or recent is None:
                continue
            try:
                roots = recent(channel_of(policy, cid), since)
            except ServiceError as exc:
                report.lines.append(f"chat: {exc.detail}; 👀 and ✅ on the alerts are read again next tick")
                continue
            for root in roots:
                match = ROOT_KEY.match(root.key)
                source = int(match.group(1)) if match else None
                if match is None or source not in active:
                    continue
                generation, replied, reacted = found.get(source, (int(match.group(2)), None, None))
                new_reply = policy.channels[cid].copy_replies and bool(root.latest_reply) and (
                    index.last_tick is None or float(root.latest_reply) > index.last_tick.timestamp())
                replies, reaction = self._chat_events(root, active[source], notifier, people, copy=new_reply and replied is None,
                                                      react=reacted is None)
                found[source] = (generation, replied or replies, reacted or reaction)
        for source, (generation, replied, reacted) in found.items():
            if replied is None and reacted is None:
                continue
            self._hold_lock()
            loaded = self.load(source)
            issue = open_sources.get(source) or self._as_seen(source, index.entries[source])
            ledger = loaded[0]
            for event in (e for e in (replied, reacted) if e is not None):  # the replies first: a ✅ ends it
                if ledger is None or ledger.incident.generation != generation or not ledger.incident.active:
                    break  # an alert of an earlier generation, or already over
                after = self._run(replace(event, issue=issue), source, report, loaded)
                if after is not ledger and not self.dry_run:
                    loaded = self.load(source)
                ledger = after
            index = self._index_update(index, source, issue, ledger)
        return index

    def _chat_events(self, root: ChatRoot, entry: Entry, notifier: Notifier, people: dict[str, tuple[str, Person]], *,
                     copy: bool, react: bool) -> tuple[Event | None, Event | None]:
        """What the team did on one root alert: the replies of the policy's people to copy
        (when `copy`: it has a new one), and (when `react`) a ✅ by one of them, which resolves
        with that person's latest reply as the note, or else (not yet acknowledged) a 👀, which
        acknowledges. The thread is read at most once."""
        forge = "github" if self.forge.name == "local" else self.forge.name
        reactions = dict(root.reactions)

        def first_person(names: tuple[str, ...]) -> tuple[str, str] | None:
            for name in names:
                for user in reactions.get(name, ()):
                    if user in people:
                        pid, person = people[user]
                        return user, getattr(person, forge, None) or person.name or pid
            return None

        resolver = first_person(CHAT_RESOLVED) if react else None
        acknowledger = first_person(("eyes",)) if react and resolver is None and entry.status == "active" else None
        thread: list[ChatReply] = []
        if copy or resolver is not None:
            try:
                thread = notifier.thread_replies(root.ref)  # type: ignore[attr-defined]
            except ServiceError as exc:
                self.log(f"chat: the alert's thread could not be read ({exc.detail}): its replies wait for the next tick")
        copied = tuple((people[r.user][1].name or people[r.user][0], datetime.fromtimestamp(float(r.ts), tz=timezone.utc), r.text, r.ts)
                       for r in thread if copy and r.user in people and not r.by_bot and r.text.strip())
        replies = replace(self._chat_reacted("outage-bot", ""), kind=EventKind.CHAT_REPLIED, emoji=None, replies=copied) if copied else None
        if resolver is not None:
            user, actor = resolver
            note = next((r.text for r in reversed(thread) if r.user == user and not r.by_bot), "")
            return replies, self._chat_reacted(actor, "white_check_mark", Comment(id=0, author=actor, body=note, created_at=self.now))
        return replies, self._chat_reacted(acknowledger[1], "eyes") if acknowledger is not None else None

    def _chat_reacted(self, actor: str, emoji: str, comment: Comment | None = None) -> Event:
        # The incident's issue is filled in by the caller (as the tick has it).
        blank = Issue(number=0, title="", body="", labels=(), state="open", url="", author="", created_at=self.now,
                      updated_at=self.now)
        return Event(kind=EventKind.CHAT_REACTED, issue=blank, actor=actor, at=self.now, emoji=emoji, comment=comment,
                     actor_trusted=True)

    def _postmortems(self, index: Index, report: Report) -> Index:
        """Post-mortems past their due time: one reminder on each still open (the planner
        decides, from the post-mortem issue as the forge has it now)."""
        for source, number in postmortems_due(index, self.now):
            self._hold_lock()
            try:
                issue = self.forge.get_issue(number, fresh=True)
            except LookupError:  # deleted, moved
                index = postmortem_looked_at(index, source)
                continue
            except ServiceError as exc:
                report.failures.append(exc)
                continue
            event = Event(kind=EventKind.TICK, issue=issue, actor="outage-bot", at=self.now)
            ledger = self._run(event, source, report, self.load(source))
            done = ledger is not None and any(k.endswith(":postmortem-due") for k in ledger.done)
            if done or not issue.is_open:
                index = postmortem_looked_at(index, source)
        return index

    def _handoffs(self, index: Index, report: Report, *, gap_since: datetime | None = None) -> Index:
        """The on-call handoff notices due since the last tick, posted through the executor;
        after a gap in the schedule, the team told once (the status issue says it too); and
        the yearly drill reminder (policy `drills:`)."""
        since = index.last_tick or (self.now - timedelta(minutes=15))
        notices = plan_handoffs(self.policy, since, self.now, index.done)
        if gap_since is not None:
            notices = plan_gap_notice(self.policy, gap_since, self.now, self.forge.name, index.done) + notices
            index = replace(index, gap=(gap_since, self.now))
        notices += plan_drill_reminder(self.policy, self.now, index.done)
        group = plan_chat_group(self.policy, self.now, index.done)
        if not notices and group is None:
            return index
        outcome = Outcome()
        done: set[str] = set()
        if group is not None and self.executor().set_chat_group(group, outcome):  # first: the notice mentions it
            done.add(group.key)
        done |= self.executor().post_notices(notices, outcome)
        report.failures.extend(outcome.failures)
        report.lines.extend(f"handoff: {line}" for line in outcome.performed)
        return replace(index, done=index.done | frozenset(done))

    def _save_index(self, status_issue: Issue | None, index: Index, report: Report, *, confidential: bool = False) -> None:
        policy = self.policy
        listed = shown(index, policy)
        ctx = {"index": index, "entries": listed, "more": len(index.entries) - len(listed),
               "history": index.history, "status_page": policy.status_page.url or "", "now": self.now,
               "hook_problem": index.hook_problem or "",
               "severities": {n: s.description or "" for n, s in policy.severities.items()}}
        body = self.renderer.render("status.md.j2", ctx).rstrip("\n") + "\n\n" + status_marker(index.to_data(frozenset(n for n, _ in listed))) + "\n"
        action = SaveStatusIndex(key=f"status:{self.now:%Y%m%dT%H%M%S}", confidential=confidential,
                                 issue=status_issue.number if status_issue else None)
        outcome = Outcome()
        self.executor().save_status(action, body, PRIVATE_INDEX_TITLE if confidential else policy.status_page.title,
                                    policy.labels.status, outcome)
        report.failures.extend(outcome.failures)
        report.lines.extend(outcome.performed)

