"""Doing it: apply a plan through a Forge and Notifiers, recording progress in the forge.

Write-ahead, then do, then record:
1. The plan's new actions join the ledger's outbox, and the ledger is saved (the first save
   creates the ledger comment, whose visible text is the TagPeople message).
2. Each outbox action runs in order. One left pending by an earlier run that died is first
   looked for (a comment with its key marker, an issue with its outage marker, a chat message
   with its metadata key), so it is never done twice.
3. The ledger is saved again with what was done.
A chat failure does not stop the forge actions: the message stays in the outbox, the next run
retries it, and this run ends with exit 2 naming the channel and the error.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot import actions as a
from bot.errors import ServiceError
from bot.incident import Incident
from bot.ledger import (
    Ledger,
    decode_ledger,
    encode_ledger,
    intent_marker,
    intents_in,
    key_marker,
    keys_in,
    outage_marker,
    outage_source,
    postmortem_marker,
    replace_ledger,
)
from bot.planner import Plan
from bot.policy import Policy
from bot.ports import Forge, Notifier
from bot.records import Channel, ChatMessage, ChatRef, Comment, PinOutcome
from bot.render import Renderer

T = TypeVar("T")

# A write whose answer was lost (5xx, timeout, dropped connection) may have happened: it is
# looked up by its key, and redone only when absent, at most this many times in one run.
ATTEMPTS = 3
BACKOFF = 1.0  # seconds before the first look-up; doubled each time
# How long a run may hold an incident's lease: the shipped CI jobs time out after 10 minutes,
# so a lease older than that belongs to a run that died, whose pending actions are recovered.
LEASE = timedelta(minutes=10)


@dataclass
class Outcome:
    """What one application did, for the log and the exit code."""

    performed: list[str] = field(default_factory=list)  # action descriptions
    skipped: list[str] = field(default_factory=list)  # keys already done
    failures: list[ServiceError] = field(default_factory=list)
    ledger: Ledger | None = None
    done_now: list[str] = field(default_factory=list)  # keys performed by this run
    busy: bool = False  # another run holds the incident's lease: nothing was done
    lost_race: bool = False  # another run declared the incident first: ours was withdrawn


def channel_of(policy: Policy, channel_id: str) -> Channel:
    config = policy.channels[channel_id]
    return Channel(id=channel_id, slack=config.slack, apprise=config.apprise, audience=policy.channel_audience(channel_id))


class Executor:
    def __init__(self, forge: Forge, notifiers: Mapping[str, Notifier], policy: Policy, renderer: Renderer, *,
                 now: datetime, dry_run: bool = False, log: Callable[[str], None] = lambda _: None,
                 sleep: Callable[[float], None] = time.sleep, by_bot: Callable[[str], bool] = lambda _: True,
                 run_id: str | None = None) -> None:
        self.forge = forge
        self.notifiers = notifiers
        self.policy = policy
        self.renderer = renderer
        self.now = now
        self.dry_run = dry_run
        self.log = log
        self.sleep = sleep
        self.by_bot = by_bot  # is this login the bot's? Only its own comments and issues are believed
        self.run_id = run_id or uuid.uuid4().hex[:12]  # this run, in the leases it takes

    # -- the ledger comment ----------------------------------------------------------------------
    def apply(self, plan: Plan, ledger: Ledger | None, ledger_comment: Comment | None,
              comments: list[Comment]) -> Outcome:
        outcome = Outcome(ledger=ledger)
        if plan.incident is None:
            return outcome
        if ledger is not None and self.leased_by_another(ledger):
            outcome.busy = True  # its pending actions are that run's, not a dead run's leftovers
            return outcome
        old = ledger or Ledger(incident=plan.incident)
        known = old.done | {entry["key"] for entry in old.outbox}
        fresh = [x for x in plan.actions if x.key not in known]
        pending_before = {entry["key"] for entry in old.outbox} - set(old.done)
        merged_incident = self._merge(old.incident, plan.incident) if ledger else plan.incident
        current = replace(old, incident=merged_incident, outbox=old.outbox + tuple(a.to_data(x) for x in fresh))
        if self.dry_run:
            for entry in current.outbox:
                if entry["key"] not in current.done:
                    action = a.from_data(entry)
                    outcome.performed.append(f"would {action.describe()}  [key {action.key}]")
            outcome.ledger = current
            return outcome
        if current == old and ledger_comment is not None and not current.outbox:
            return outcome  # nothing new and nothing pending: no request at all
        # A plan that starts with notices on the source issue writes them as one comment, which
        # carries the rest of the plan's keys: that comment is its write-ahead record, so the
        # ledger is written once, at the end (a busy tick: 3 requests an incident, not 5).
        # Keys such a comment holds that the ledger does not are pending: looked up first.
        pending_before |= {k for c in comments if self.by_bot(c.author) for k in (*keys_in(c.body), *intents_in(c.body))} - set(old.done)
        group = self._notices(current) if ledger_comment is not None and not old.outbox else []
        declaring = ledger_comment is None
        if not group:
            current = replace(current, lease=(self.run_id, self.now + LEASE))
            ledger_comment, current = self._save(current, ledger_comment, outcome)
            if declaring and self._withdrawn(current.incident.source, ledger_comment, outcome):
                return outcome
        assert ledger_comment is not None
        for entry in list(current.outbox):
            action = a.from_data(entry)
            if action.key in current.done:
                continue
            try:
                if group and action.key == group[0].key and not any(x.key in pending_before for x in group):
                    ledger_now = current
                    posted: str | None = self._once(
                        action.describe(), lambda led=ledger_now: self._post_notices(group, led),  # type: ignore[misc]
                        lambda led=ledger_now: self._already_done(group[0], led, None))  # type: ignore[misc]
                    for member in group:
                        outcome.performed.append(member.describe())
                        outcome.done_now.append(member.key)
                        current = self._done(current, member, posted)
                    continue
                if action.key in pending_before:
                    found, earlier = self._already_done(action, current, comments)
                    if found:
                        outcome.skipped.append(action.key)
                        current = self._done(current, action, earlier)
                        continue
                ledger_now = current
                result = self._once(action.describe(), lambda x=action, led=ledger_now: self._perform(x, led),  # type: ignore[misc]
                                    lambda x=action, led=ledger_now: self._lost_answer(x, led))  # type: ignore[misc]
            except ServiceError as exc:
                outcome.failures.append(exc)
                current = replace(current, failures={**current.failures, action.key: str(exc.detail)[:200]})
                if not isinstance(action, (a.PostChatMessage, a.UpdateChatMessage, a.AddChatReaction)):
                    break  # the forge is failing: stop, record what was done, exit 2
                continue
            outcome.performed.append(action.describe())
            outcome.done_now.append(action.key)
            current = self._done(current, action, result)
        current = replace(current, outbox=tuple(e for e in current.outbox if e["key"] not in current.done), lease=None)
        self._save(current, ledger_comment, outcome)
        outcome.ledger = current
        return outcome

    def _notices(self, ledger: Ledger) -> list[a.PostComment]:
        """The comments a plan posts on the source issue, to be posted as one, first; [] when
        the plan starts with anything else (it is then written ahead in the ledger)."""
        actions = [a.from_data(e) for e in ledger.outbox if e["key"] not in ledger.done]
        if not actions or not isinstance(actions[0], a.PostComment) or actions[0].target != "source":
            return []
        return [x for x in actions if isinstance(x, a.PostComment) and x.target == "source"]

    def _post_notices(self, group: list[a.PostComment], ledger: Ledger) -> str:
        """One comment for the notices due on an incident, carrying each one's key and the
        rest of the plan's keys as intents."""
        texts = [self._render_action_text(x, ledger).rstrip("\n") for x in group]
        keys = {x.key for x in group}
        rest = [e["key"] for e in ledger.outbox if e["key"] not in keys and e["key"] not in ledger.done]
        markers = [key_marker(x.key) for x in group] + [intent_marker(k) for k in rest]
        body = "\n\n---\n\n".join(texts) + "\n\n" + "\n".join(markers) + "\n"
        return str(self.forge.post_comment(ledger.incident.source, body).id)

    # -- concurrent runs ------------------------------------------------------------------------------
    def leased_by_another(self, ledger: Ledger) -> bool:
        pending = any(e["key"] not in ledger.done for e in ledger.outbox)
        lease = ledger.lease
        return pending and lease is not None and lease[0] != self.run_id and lease[1] > self.now

    def _withdrawn(self, source: int, mine: Comment, outcome: Outcome) -> bool:
        """Runs that declare the same incident at once each post a ledger comment. Comment ids
        grow in creation order, and each run lists the comments after its own was created, so
        every run sees the earliest: it wins, and the others delete theirs and stop before
        writing anything else (the winner does it all)."""
        comments = self.forge.list_comments(source, fresh=True)
        earlier = [c for c in comments if c.id < mine.id and self.by_bot(c.author) and decode_ledger(c.body) is not None]
        if not earlier:
            return False
        self._once("withdraw a duplicate ledger comment", lambda: self.forge.delete_comment(source, mine.id), lambda: (False, None))
        outcome.lost_race = True
        outcome.performed.clear()
        outcome.done_now.clear()
        outcome.ledger = decode_ledger(earlier[0].body)
        return True

    @staticmethod
    def _merge(stored: Incident, planned: Incident) -> Incident:
        """The planner works from the stored incident; fields only the executor learns (the
        outage issue, the pin) are kept from storage when the plan did not change them."""
        return replace(planned, outage_issue=planned.outage_issue or stored.outage_issue,
                       outage_url=planned.outage_url or stored.outage_url, pin=planned.pin or stored.pin)

    def _save(self, ledger: Ledger, comment: Comment | None, outcome: Outcome) -> tuple[Comment, Ledger]:
        source = ledger.incident.source
        if comment is None:
            tag = next((a.from_data(e) for e in ledger.outbox if e["type"] == "TagPeople"), None)
            visible = self._render_action_text(tag, ledger) if tag else "outage-bot is tracking this incident."
            if tag is not None:
                ledger = self._done(ledger, tag, None)
                ledger = replace(ledger, outbox=tuple(e for e in ledger.outbox if e["key"] != tag.key))
                outcome.performed.append(tag.describe())
                outcome.done_now.append(tag.key)
            body = visible.rstrip("\n") + "\n\n" + (key_marker(tag.key) + "\n" if tag else "") + encode_ledger(ledger) + "\n"
            created = self._once("post the ledger comment", lambda: self.forge.post_comment(source, body),
                                 lambda: self._ledger_comment_posted(source, tag.key if tag else None))
            return replace(created, body=body), ledger
        body = replace_ledger(comment.body, ledger)
        if body != comment.body:
            # Setting a body is idempotent: a lost answer is simply tried again.
            self._once("save the ledger", lambda: self.forge.edit_comment(source, comment.id, body), lambda: (False, None))
        return replace(comment, body=body), ledger

    def _done(self, ledger: Ledger, action: a.Action, result: str | None) -> Ledger:
        refs = dict(ledger.refs)
        if result is not None:
            refs[action.key] = result
        incident = ledger.incident
        if isinstance(action, a.OpenOutageIssue) and result:
            number, _, url = result.partition("|")
            incident = replace(incident, outage_issue=int(number), outage_url=url)
        if isinstance(action, a.OpenPostMortem) and result:
            number, _, url = result.partition("|")
            incident = replace(incident, postmortem_issue=int(number), postmortem_url=url)
        if isinstance(action, a.PostChatMessage) and action.root and result:
            refs[f"chatroot:{action.channel}"] = result
        if isinstance(action, a.PinIssue) and result:
            incident = replace(incident, pin=result)
        if isinstance(action, a.UnpinIssue):
            incident = replace(incident, pin="unpinned")
        failures = {k: v for k, v in ledger.failures.items() if k != action.key}
        return replace(ledger, incident=incident, done=ledger.done | {action.key}, refs=refs, failures=failures)

    # -- writes about no incident: handoff notices, the status index -------------------------------
    def post_notices(self, notices: tuple[a.PostNotice, ...], outcome: Outcome) -> set[str]:
        """Post each notice once; returns the keys now done (to record in the status index).
        Nothing records a notice before it is posted, so each is first looked for by its key:
        a run that died between posting and saving the index is not repeated."""
        done: set[str] = set()
        for notice in notices:
            notifier = self.notifiers.get(notice.channel)
            if notifier is None:
                outcome.performed.append(f"no chat service for {notice.channel}: {notice.describe()} skipped")
                continue
            if self.dry_run:
                outcome.performed.append(f"would {notice.describe()}  [key {notice.key}]")
                continue
            channel = channel_of(self.policy, notice.channel)

            def find(notifier: Notifier = notifier, channel: Channel = channel, key: str = notice.key) -> tuple[bool, Any]:
                ref = notifier.find(channel, key)
                return ref is not None, ref

            try:
                found, _ = find()
                if not found:
                    text = self.renderer.render(notice.template, notice.context).strip()
                    headline, _, body = text.partition("\n")
                    message = ChatMessage(headline=headline.strip(), body=body.strip(),
                                          mentions=tuple(notice.context.get("slack_mentions", ())), metadata_key=notice.key)
                    self._once(notice.describe(), lambda n=notifier, c=channel, m=message: n.post(c, m), find)  # type: ignore[misc]
                    outcome.performed.append(f"{headline.strip()} -> {notice.channel}")
                    outcome.done_now.append(notice.key)
            except ServiceError as exc:
                outcome.failures.append(exc)
                continue
            done.add(notice.key)
        return done

    def set_chat_group(self, action: a.SetChatGroup, outcome: Outcome) -> bool:
        """Set the on-call user group's members; True once done (or impossible here: a chat
        service that has no user groups, which the log says)."""
        notifier = self.notifiers.get(action.channel)
        setter = getattr(notifier, "set_group", None)
        if setter is None:
            outcome.performed.append(f"on-call group {action.group}: no Slack Web API token for {action.channel}: not set")
            return True
        if self.dry_run:
            outcome.performed.append(f"would {action.describe()}  [key {action.key}]")
            return False
        try:
            # Setting members is idempotent: a lost answer is simply tried again.
            self._once(action.describe(), lambda: setter(action.group, list(action.users)), lambda: (False, None))
        except ServiceError as exc:
            outcome.failures.append(exc)
            return False
        outcome.performed.append(f"on-call group {action.group} now holds {', '.join(action.users)}")
        return True

    def enable_schedule(self, workflow: str, outcome: Outcome) -> str:
        """The tick's workflow re-enabled where the forge disabled it (GitHub, with `actions:
        write`). Enabling is idempotent: a lost answer is simply asked again by the next run.
        Returns what the forge says of it ("re-enabled", "active", "disabled_inactivity", ...),
        "" where it has no such thing or could not say."""
        enable = getattr(self.forge, "enable_schedule", None)
        if enable is None:
            return ""
        if self.dry_run:
            outcome.performed.append(f"would re-enable {workflow} if the forge disabled it")
            return ""
        try:
            state = str(enable(workflow))
        except ServiceError as exc:  # the notice goes anyway, with the click path
            self.log(f"the tick's workflow {workflow}: {exc.detail}")
            return ""
        if state == "re-enabled":
            outcome.performed.append(f"{self.forge.name} had disabled {workflow}: re-enabled")
        return state

    def save_status(self, action: a.SaveStatusIndex, body: str, title: str, label: str, outcome: Outcome) -> None:
        """Write a status index. Opening the status issue is looked up (by its marker, in the
        bot's own issues) before it is retried; replacing a body is idempotent."""
        if self.dry_run:
            outcome.performed.append(f"would {action.describe()}")
            return
        number = action.issue
        try:
            if number is None:
                def find() -> tuple[bool, Any]:
                    found = self.forge.find_issue_with_marker("<!-- outage-bot:status v1 ", label)
                    ok = found is not None and self.by_bot(found.author) and found.confidential == action.confidential
                    return ok, found

                self._once(action.describe(), lambda: self.forge.create_issue(
                    title=title, body=body, labels=[label], confidential=action.confidential), find)
                outcome.performed.append(f"{'confidential ' if action.confidential else ''}status issue opened")
            else:
                self._once(action.describe(), lambda: self.forge.edit_issue_body(number, body), lambda: (False, None))
        except ServiceError as exc:
            outcome.failures.append(exc)

    # -- recovery ------------------------------------------------------------------------------------
    def _once(self, what: str, write: Callable[[], T], find: Callable[[], tuple[bool, Any]]) -> T:
        """Do a write exactly once. When its answer is lost (the service may have done it), look
        it up by its key and redo it only if it is not there: a POST is never repeated blindly.
        `find` returns (found, the result the write would have returned)."""
        for attempt in range(ATTEMPTS):
            try:
                return write()
            except ServiceError as exc:
                if not exc.uncertain or attempt == ATTEMPTS - 1:
                    raise
                self.log(f"{what}: {exc.detail}; looking it up before trying again")
                self.sleep(BACKOFF * 2**attempt)
                found, earlier = find()
                if found:
                    return earlier  # type: ignore[no-any-return]
        raise AssertionError("unreachable")

    def _lost_answer(self, action: a.Action, ledger: Ledger) -> tuple[bool, str | None]:
        """After a write whose answer was lost: was it done? Where the chat service cannot be
        read back (a webhook, Apprise), it is counted as sent: a POST is never repeated blindly,
        and a page that may have arrived twice is worse than a note in the log."""
        if isinstance(action, a.PostChatMessage):
            notifier = self.notifiers.get(action.channel)
            if notifier is not None and not getattr(notifier, "can_read_back", True):
                self.log(f"{action.describe()}: the answer was lost and {notifier.service} cannot be read back: counted as sent")
                return True, None
        return self._already_done(action, ledger, None)

    def _ledger_comment_posted(self, source: int, tag_key: str | None) -> tuple[bool, Comment | None]:
        for comment in self.forge.list_comments(source):
            if self.by_bot(comment.author) and decode_ledger(comment.body) is not None and (tag_key is None or tag_key in keys_in(comment.body)):
                return True, comment
        return False, None

    def _already_done(self, action: a.Action, ledger: Ledger, comments: list[Comment] | None) -> tuple[bool, str | None]:
        """Did an earlier attempt (a run that died, or a write whose answer was lost) do this
        action already? `comments`: the source issue's, as read at the start (None: read them
        again). Returns (found, what it produced)."""
        if isinstance(action, a.NATURALLY_IDEMPOTENT):
            return False, None  # redoing is harmless
        if isinstance(action, (a.PostComment, a.TagPeople)):
            target = self._target(action.target, ledger)
            pool = comments if comments is not None and target == ledger.incident.source else self.forge.list_comments(target)
            match = next((c for c in pool if action.key in keys_in(c.body) and self.by_bot(c.author)), None)
            return match is not None, str(match.id) if match else None
        if isinstance(action, a.OpenPostMortem):
            marker = postmortem_marker(ledger.incident.source, action.key)
            found = self.forge.find_issue_with_marker(marker, action.labels[0]) if action.labels else None
            if found is not None and not self.by_bot(found.author):
                found = None
            return found is not None, f"{found.number}|{found.url}" if found else None
        if isinstance(action, a.OpenOutageIssue):
            marker = outage_marker(ledger.incident.source, action.key)
            found = self.forge.find_issue_with_marker(marker, self.policy.labels.active)
            if found is not None and not self.by_bot(found.author):
                found = None
            return found is not None, f"{found.number}|{found.url}" if found else None
        if isinstance(action, a.PostChatMessage):
            notifier = self.notifiers.get(action.channel)
            if notifier is None:
                return False, None
            # A reply went into the root alert's thread (as `_chat` posts it): look there.
            thread = None if action.root else self._chat_root(ledger, action.channel, notifier)
            ref = notifier.find(channel_of(self.policy, action.channel), action.key, thread=thread)
            return ref is not None, ref.encode() if ref else None
        return False, None

    @staticmethod
    def _chat_root(ledger: Ledger, channel_id: str, notifier: Notifier) -> ChatRef | None:
        """The incident's root alert in that channel, once posted and recorded, if `notifier`
        can thread under it. Not when the channel's service changed mid-incident (a token
        added to a webhook set-up): the new one cannot thread, edit or react to the old alert."""
        text = ledger.refs.get(f"chatroot:{channel_id}")
        root = ChatRef.decode(text) if text else None
        return root if root is not None and notifier.can_thread and root.service == notifier.service else None

    # -- doing ---------------------------------------------------------------------------------------
    def _target(self, target: a.Target, ledger: Ledger) -> int:
        if target == "source":
            return ledger.incident.source
        if target == "outage":
            if ledger.incident.outage_issue is None:
                raise LookupError("no outage issue")
            return ledger.incident.outage_issue
        return int(target)

    def _live(self, ledger: Ledger) -> dict[str, Any]:
        inc = ledger.incident
        return {
            "outage": {"number": inc.outage_issue, "url": inc.outage_url or ""} if inc.outage_issue else None,
            "pin": inc.pin,
            "postmortem_issue": {"number": inc.postmortem_issue, "url": inc.postmortem_url or ""} if inc.postmortem_issue else None,
        }

    def _render_action_text(self, action: Any, ledger: Ledger) -> str:
        ctx = {**action.context, **self._live(ledger)}
        return self.renderer.render(action.template, ctx)

    def _perform(self, action: a.Action, ledger: Ledger) -> str | None:
        forge = self.forge
        if isinstance(action, (a.TagPeople, a.PostComment)):
            target = self._target(action.target, ledger)
            body = self._render_action_text(action, ledger).rstrip("\n") + "\n\n" + key_marker(action.key) + "\n"
            return str(forge.post_comment(target, body).id)
        if isinstance(action, a.OpenOutageIssue):
            body = self._outage_body(action.template, action.context, ledger, action.key)
            issue = forge.create_issue(title=action.title, body=body, labels=action.labels,
                                       confidential=action.confidential, incident=action.incident)
            return f"{issue.number}|{issue.url}"
        if isinstance(action, a.OpenPostMortem):
            text = self.renderer.render(action.template, {**action.context, **self._live(ledger), "timeline": self._timeline(ledger)})
            body = text.rstrip("\n") + "\n\n" + postmortem_marker(ledger.incident.source, action.key) + "\n"
            issue = forge.create_issue(title=action.title, body=body, labels=action.labels, confidential=action.confidential,
                                       assignees=(action.assignee,) if action.assignee else ())
            return f"{issue.number}|{issue.url}"
        if isinstance(action, a.EditOutageIssue):
            if ledger.incident.outage_issue is None:
                return None
            key = next((k for k in ledger.done if k.endswith(":outage-issue")), "outage")
            forge.edit_issue_body(ledger.incident.outage_issue, self._outage_body(action.template, action.context, ledger, key))
            return None
        if isinstance(action, a.PinIssue):
            return self._pin(ledger)
        if isinstance(action, a.UnpinIssue):
            forge.unpin_issue(self._target(action.target, ledger))
            return None
        if isinstance(action, (a.AddLabels, a.RemoveLabels)):
            try:
                target = self._target(action.target, ledger)
            except LookupError:
                return None
            (forge.add_labels if isinstance(action, a.AddLabels) else forge.remove_labels)(target, list(action.labels))
            return None
        if isinstance(action, a.CloseIssue):
            try:
                forge.close_issue(self._target(action.target, ledger))
            except LookupError:
                pass
            return None
        if isinstance(action, (a.PostChatMessage, a.UpdateChatMessage, a.AddChatReaction)):
            return self._chat(action, ledger)
        raise TypeError(f"unknown action {action!r}")

    def _timeline(self, ledger: Ledger) -> list[dict[str, Any]]:
        """The incident's timeline as the forge records it, for the post-mortem (bot.timeline).
        A few reads; when they fail the post-mortem is opened anyway, saying so."""
        from bot.errors import UserError
        from bot.text import UserText
        from bot.timeline_forge import timeline_of

        try:
            _, entries = timeline_of(self.forge, ledger.incident.source, self.policy, now=self.now)
        except (ServiceError, UserError, LookupError) as exc:
            self.log(f"post-mortem: the timeline could not be read ({exc})")
            return []
        rows = [{"at": e.at, "what": e.what, "note": UserText(e.note), "who": UserText(e.who)} for e in entries]
        inc = ledger.incident
        if inc.resolved_at is not None and not any(e.kind in ("resolved", "false_positive") for e in entries):
            # the resolution's own notices are written after the post-mortem: the ledger says it
            rows.append({"at": inc.resolved_at, "what": "resolved", "note": UserText(inc.resolution), "who": UserText(inc.resolved_by or "")})
        return rows

    def _outage_body(self, template: str, context: dict[str, Any], ledger: Ledger, key: str) -> str:
        text = self.renderer.render(template, {**context, **self._live(ledger)})
        return text.rstrip("\n") + "\n\n" + outage_marker(ledger.incident.source, key) + "\n"

    def _pin(self, ledger: Ledger) -> str:
        """Pin the outage issue. When the forge's slots are full, unpin the oldest RESOLVED outage
        issue the bot pinned; never one a person pinned. All held by others: say so."""
        number = ledger.incident.outage_issue
        assert number is not None
        outcome = self.forge.pin_issue(number)
        if outcome == PinOutcome.LIMIT_REACHED:
            ours = [i for i in self.forge.pinned_issues()
                    if outage_source(i.body) is not None and i.number != number
                    and (not i.is_open or self.policy.labels.active not in i.labels)]
            if ours:
                oldest = min(ours, key=lambda i: i.created_at)
                self.log(f"pin limit reached: unpinning #{oldest.number}, the oldest resolved outage issue")
                self.forge.unpin_issue(oldest.number)
                outcome = self.forge.pin_issue(number)
        status = {PinOutcome.PINNED: "pinned", PinOutcome.LIMIT_REACHED: "limit", PinOutcome.UNSUPPORTED: "unsupported"}[outcome]
        if status == "limit":
            # Tell readers why the notice is not pinned: the outage issue says so.
            incident = replace(ledger.incident, pin="limit")
            opened = next((e for e in ledger.outbox if e["type"] == "OpenOutageIssue"), None)
            if opened and opened["context"]:
                body = self._outage_body(opened["template"], opened["context"], replace(ledger, incident=incident), opened["key"])
                self.forge.edit_issue_body(number, body)
        return status

    def _chat(self, action: a.PostChatMessage | a.UpdateChatMessage | a.AddChatReaction, ledger: Ledger) -> str | None:
        channel_id = action.channel
        notifier = self.notifiers.get(channel_id)
        if notifier is None:
            self.log(f"channel {channel_id!r}: no chat service configured (no token): skipped")
            return None
        channel = channel_of(self.policy, channel_id)
        root = self._chat_root(ledger, channel_id, notifier)
        if isinstance(action, a.AddChatReaction):
            if root:
                notifier.react(root, action.emoji)
            return None
        message = self._chat_message(action, ledger, channel)
        if isinstance(action, a.UpdateChatMessage):
            if root:
                notifier.update(root, message)
            return None
        return notifier.post(channel, message, thread=None if action.root else root).encode()

    def _chat_message(self, action: Any, ledger: Ledger, channel: Channel) -> ChatMessage:
        ctx = {**action.context, **self._live(ledger)}
        text = self.renderer.render(action.template, ctx).strip()
        headline, _, body = text.partition("\n")
        inc = ctx["incident"]
        team = channel.audience == "team"
        link_url = ledger.incident.outage_url or inc.get("source_url") or ""
        fields: list[tuple[str, str]] = [("Status", ledger.incident.status.replace("_", " "))]
        if team:
            fields.insert(0, ("Severity", inc["severity"]))
            if inc.get("deadline"):
                fields.append(("Deadline", self.renderer.render_when(inc["deadline"])))
        return ChatMessage(
            headline=headline.strip(), body=body.strip(), fields=tuple(fields),
            link=("Outage issue" if ledger.incident.outage_issue else "Issue", link_url) if link_url else None,
            mentions=tuple(ctx.get("slack_mentions", ())) if team else (),
            status=ledger.incident.status, severity=inc["severity"], metadata_key=action.key)
