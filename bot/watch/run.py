"""The tick's part: check every probe and upstream, then declare or resolve through the runner.

Declaring opens the probe's issue (looked up by its marker first, and again after a create
whose answer was lost: never a second issue) and declares on it as a person putting the
severity label on would. Resolving is a `/resolve` with the recovery note from the bot, which
may (it declared), then the issue it opened is closed. Everything else, the notices, the outage
issue, the chat, is the runner's and the planner's, as for any incident.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.errors import ServiceError
from bot.events import Event, EventKind
from bot.extras import MissingExtra
from bot.own_issue import find_own, open_own
from bot.policy import Policy, Probe, Upstream, upstream_severity
from bot.records import Comment, Issue
from bot.text import plain_title
from bot.watch import issue as text
from bot.watch.state import Check, Decision, WatchState, step

if TYPE_CHECKING:
    from bot.ledger import Ledger
    from bot.ports import Forge
    from bot.status_index import Index

    Loaded = tuple[Ledger | None, Comment | None, list[Comment]]
    Checks = Callable[[Policy, datetime], tuple[dict[str, Check], dict[str, Check | None], list[str]]]


class Report(Protocol):
    """What the run reports (bot.runner.Report): the lines said and the failures."""

    lines: list[str]
    failures: list[ServiceError]


class Runner(Protocol):
    """What this needs of the runner (bot.runner.Runner), which calls `watch` from its tick:
    named here, not imported, so the runner and this module do not import each other."""

    forge: Forge
    policy: Policy
    now: datetime
    dry_run: bool

    def _hold_lock(self) -> bool: ...

    def load(self, source: int, *, fresh: bool = False) -> Loaded: ...

    def _run(self, event: Event, source: int, report: Any, loaded: Loaded | None = None) -> Ledger | None: ...

    def _index_update(self, index: Index, number: int, issue: Issue, ledger: Ledger | None) -> Index: ...


ACTOR = "outage-bot"
Spec = Probe | Upstream


def watch(runner: Runner, index: Index, report: Report, *, checks: Checks | None = None) -> Index:
    """The tick's phase (Runner.phases): check, step each state, act on what is due. The index
    keeps the states that are not quiet (up, nothing counted): a target that stays up costs no
    write. `checks`: bot.watch.http.check_all, over HTTP."""
    policy = runner.policy
    try:
        if checks is None:
            from bot.watch.http import check_all

            checks = check_all
        probes, upstreams, problems = checks(policy, runner.now)
    except MissingExtra as exc:
        # The rest of the tick (reminders, escalations) must not stop for it: said, not raised.
        report.lines.append(f"probes and upstreams not checked: {exc} (the CI job's `extras`)")
        return index
    report.lines.extend(problems)
    states = dict(index.watch)
    checked: list[tuple[str, str, Spec, Check]] = [
        *(("probes", name, policy.probes[name], check) for name, check in probes.items()),
        *(("upstreams", name, policy.upstreams[name], check) for name, check in upstreams.items() if check is not None),
    ]
    for section, name, spec, check in checked:
        key = f"{section}:{name}"
        fail_after, recover_after = thresholds(spec)
        state, decision = step(states.get(key, WatchState()), check, fail_after=fail_after, recover_after=recover_after)
        if decision is Decision.DECLARE:
            declared = _declare(runner, section, name, spec, state, check, report)
            if declared is not None:
                issue, ledger = declared
                state = replace(state, incident=issue.number, oks=0)
                index = runner._index_update(index, issue.number, issue, ledger)
        elif decision is Decision.RESOLVE and state.incident is not None:
            resolved = _resolve(runner, section, state, check, report)
            if resolved is not None:
                gone, ledger = resolved
                state = WatchState()
                if gone is not None and ledger is not None:
                    index = runner._index_update(index, gone.number, gone, ledger)
        states[key] = state
    keep = {f"probes:{n}" for n in policy.probes} | {f"upstreams:{n}" for n in policy.upstreams}
    return replace(index, watch={k: s for k, s in states.items() if k in keep and not s.quiet})


def thresholds(spec: Spec) -> tuple[int, int]:
    """(fail_after, recover_after). Upstream pages debounce themselves: one reading is enough
    either way."""
    return (spec.fail_after, spec.recover_after) if isinstance(spec, Probe) else (1, 1)


def labels(policy: Policy, section: str, spec: Spec) -> list[str]:
    """The labels of the issue the bot opens: the severity's (it declares), the kind's, the
    component's, and the monitor label that finds it again."""
    severity = spec.severity if isinstance(spec, Probe) else upstream_severity(policy, spec)
    out = [policy.severities[severity].labels[0]]
    if spec.kind:
        out.append(policy.kinds[spec.kind].labels[0])
    if isinstance(spec, Probe) and spec.component:
        component = next(c for c in policy.status_page.components or () if c.name == spec.component)
        out += component.labels[:1]
    return list(dict.fromkeys(out + [policy.labels.monitor]))


def _declare(runner: Runner, section: str, name: str, spec: Spec, state: WatchState, check: Check,
             report: Report) -> tuple[Issue, Ledger | None] | None:
    policy = runner.policy
    marker = text.marker(section, name, spec.url)
    wanted = labels(policy, section, spec)
    title = plain_title(text.title(section, name, check, spec.component if isinstance(spec, Probe) else None))
    what = f"{section[:-1]} {name}"
    if not runner._hold_lock():  # two ticks at once: the second finds the first's issue under it
        report.lines.append(f"{what}: another run held the run lock; the next tick declares it")
        return None
    try:
        issue = find_own(runner.forge, marker, policy.labels.monitor)
        if issue is None or not issue.is_open:
            if runner.dry_run:
                report.lines.append(f"{what}: would open an issue {title!r} with labels {wanted} and declare on it")
                return None
            fail_after, recover_after = thresholds(spec)
            body = text.body(section, name, spec.url, state, [check], fail_after=fail_after, recover_after=recover_after)
            issue = open_own(runner.forge, marker=marker, label=policy.labels.monitor, title=title, body=body, labels=wanted)
            report.lines.append(f"{what}: {check.summary}: opened #{issue.number}")
        else:
            issue = replace(issue, labels=tuple(dict.fromkeys(issue.labels + tuple(wanted))))
    except ServiceError as exc:
        report.failures.append(exc)  # the next failed check asks again
        return None
    event = Event(kind=EventKind.LABELED, issue=issue, actor=ACTOR, at=runner.now, labels_added=tuple(wanted[:2]),
                  delivery=what)
    return issue, runner._run(event, issue.number, report)


def _resolve(runner: Runner, section: str, state: WatchState, check: Check, report: Report
             ) -> tuple[Issue | None, Ledger | None] | None:
    """None: not done, ask again at the next good check. (issue, None): nothing left to resolve
    (a person resolved it, or the issue is gone)."""
    assert state.incident is not None
    number = state.incident
    try:
        issue = runner.forge.get_issue(number)
    except LookupError:  # the issue is gone (deleted, moved): nothing left to resolve
        return None, None
    except ServiceError as exc:
        report.failures.append(exc)
        return None
    runner._hold_lock()
    loaded = runner.load(number)
    if loaded[0] is None or not loaded[0].incident.active:
        return issue, None  # resolved by a person meanwhile: nothing to do
    note = text.recovery_note(section, state, check)
    comment = Comment(id=0, author=ACTOR, body=f"/resolve {note}", created_at=runner.now)
    event = Event(kind=EventKind.COMMENTED, issue=issue, actor=ACTOR, at=runner.now, comment=comment, actor_trusted=True,
                  delivery=f"{section[:-1]} recovered")
    ledger = runner._run(event, number, report, loaded)
    if ledger is None or ledger.incident.active:
        return None
    if issue.is_open and not runner.dry_run:
        try:
            runner.forge.close_issue(number)
            report.lines.append(f"#{number}: closed ({section[:-1]} recovered)")
            issue = replace(issue, state="closed")
        except ServiceError as exc:
            report.failures.append(exc)
    return issue, ledger
