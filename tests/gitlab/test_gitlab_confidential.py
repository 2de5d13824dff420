"""Issue #11 item 2's "done when", on GitLab: a confidential (security, critical) incident runs
its whole life beside a public one, as GitLab CI runs it (a webhook-triggered `outage-bot
handle` per event, the webhooks GitLab sends for the bot's own writes, scheduled `tick`s),
against the fake GitLab, with Slack's incoming webhooks pointed at a local sink; then every
public thing the bot wrote is searched for the incident's title, its number and the words of
its resolution note: 0 hits.

On GitLab the incident may live in its confidential outage issue and in its kind's channel,
and it is indexed in a confidential status issue. What "public" means here: every issue that
is not confidential, except the incident's own source issue (titles, descriptions, the
status issue's decoded index), every note on those, and every post to a channel other than
the security one (SLACK_WEBHOOK_URL serves alerts and users). The search itself is
tests/test_confidential.py's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from chat_sink import ChatSink
from click.testing import CliRunner, Result
from fake_gitlab import FakeGitLab
from gitlab_pipeline import Pipeline
from payloads import emoji_hook

from bot.cli import cli
from bot.ledger import STATUS_RE
from bot.runner import PRIVATE_INDEX_TITLE
from tests.test_confidential import (
    PUBLIC_NOTE,
    PUBLIC_TITLE,
    SECRET_BODY,
    SECRET_NOTE,
    SECRET_TITLE,
    T0,
    Secret,
    clean_environment,
    count_hits,
    strings,
)

STATUS_LABEL = "outage-bot::status"


def public_places(fake: FakeGitLab, sink: ChatSink, secret: Secret) -> list[tuple[str, str]]:
    """Everything public: issues that are not confidential but the source, and their notes (as
    they are, and every write as sent), and every post to a channel but the security one."""
    places: list[tuple[str, str]] = []
    for iid, issue in sorted(fake.issues.items()):
        if issue["confidential"] or iid == secret.number:
            continue
        places += [(f"issue #{iid} title", issue["title"]), (f"issue #{iid} description", issue["description"] or "")]
        places += [(f"note on #{iid} by {n['author']}", n["body"]) for n in fake.notes.get(iid, [])]
    # every write as sent: an edited description's earlier versions stay public in its history
    for r in fake.requests:
        if r.method not in ("POST", "PUT") or not isinstance(r.body, dict):
            continue
        target = re.search(r"/issues/(\d+)", r.path)
        if target is None:  # an issue opened: public unless asked to be confidential
            public = r.path.endswith("/issues") and str(r.body.get("confidential", "")).lower() not in ("true", "1")
        else:
            public = int(target[1]) != secret.number and not fake.issue(int(target[1]))["confidential"]
        if public:
            places.append((f"{r.method} {r.path}", strings(r.body)))
    places += [(f"chat post to {path}", strings(body)) for path, body in sink.posts if path != "/security"]
    return places


@dataclass
class Life:
    """The end of a confidential incident's life on the fake GitLab, beside a public one."""

    fake: FakeGitLab
    sink: ChatSink
    number: int  # the confidential incident's issue
    outage: int  # its confidential outage issue
    secret: Secret
    log: list[str]  # what every pipeline printed: the CI job logs


@pytest.fixture(scope="module")
def life(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Life]:
    with clean_environment(), FakeGitLab(now=T0) as fake, ChatSink() as sink:
        fake.add_member("dev1", 30)  # Developer: may acknowledge and resolve
        yield live(Pipeline(fake, sink, tmp_path_factory.mktemp("gitlab")))


def live(pipeline: Pipeline) -> Life:
    fake = pipeline.fake
    log: list[str] = []

    def ok(result: Result) -> Result:
        log.append(result.output)  # stdout and stderr, as the job log shows them
        assert result.exit_code == 0, result.output
        return result

    def at(hours: int = 0, minutes: int = 0) -> str:
        """Move GitLab's clock (what people do is stamped with it) and give the run's --now."""
        moment: datetime = T0 + timedelta(hours=hours, minutes=minutes)
        fake.now = moment
        return moment.isoformat()

    # a public critical incident: #1, its outage issue #2
    fake.open_issue(PUBLIC_TITLE, by="alice", description="Every order fails with a 500.")
    ok(pipeline.label(1, "priority::highest", by="alice", now=at()))
    # the confidential one, on an ordinary (public) issue: the kind, then the severity
    at(minutes=4)
    number = fake.open_issue(SECRET_TITLE, by="alice", description=SECRET_BODY)["iid"]
    ok(pipeline.label(number, "security", by="alice", now=at(minutes=5)))
    declared = ok(pipeline.label(number, "priority::highest", by="alice", now=at(minutes=6)))
    assert f"declared: critical (security) incident on #{number}" in declared.output
    [outage] = [i["iid"] for i in fake.issues.values() if i["title"] == f"Outage: {SECRET_TITLE}"]
    for result in pipeline.echoes(0, at(minutes=7)):  # GitLab's webhooks for what the bot wrote
        ok(result)

    ok(pipeline.tick(at(minutes=10)))
    ok(pipeline.comment(1, "/ack", by="dev1", now=at(minutes=25)))  # the public one acknowledged
    for moment in (at(minutes=30), at(3, 10), at(12, 10), at(20, 10), at(23, 10)):  # handoff, secondary called, reminders
        ok(pipeline.tick(moment))
    award = fake.award(outage, "eyes", by="sec-lead")  # 👀 on the confidential outage issue, by a policy person
    acked = ok(pipeline.deliver(emoji_hook(fake, outage, award), at(23, 12)))
    assert "acknowledged by sec-lead" in acked.output
    since = max(n["id"] for ns in fake.notes.values() for n in ns)
    ok(pipeline.comment(1, f"/resolve {PUBLIC_NOTE}", by="dev1", now=at(23, 40)))
    ok(pipeline.tick(at(23, 50)))
    ok(pipeline.tick(at(24, 10)))  # the confidential one's deadline (24h after 14:06) has passed: the breach notice
    resolved = ok(pipeline.comment(number, f"/resolve {SECRET_NOTE}", by="sec-lead", now=at(24, 20)))
    assert "resolved by sec-lead" in resolved.output, resolved.output
    for result in pipeline.echoes(since, at(24, 25)):
        ok(result)
    for moment in (at(24, 30), at(25, 30)):  # the status issues rewritten with the history
        ok(pipeline.tick(moment))
    return Life(fake, pipeline.sink, number, outage, Secret(SECRET_TITLE, number, SECRET_NOTE), log)


def test_nothing_public_names_the_confidential_incident_on_gitlab(life: Life) -> None:
    fake = life.fake
    places = public_places(fake, life.sink, life.secret)
    count, found = count_hits(life.secret, places)
    public_issues = [i for i in fake.issues.values() if not i["confidential"] and i["iid"] != life.number]
    print(f"gitlab: searched {len(public_issues)} public issues, {len(places)} texts: {count} hits")
    assert count == 0, "\n".join(found)
    # the control: the public status issue does list the public incident and its note
    [public] = [i for i in fake.issues.values() if STATUS_LABEL in i["labels"] and i["author"] == fake.bot and not i["confidential"]]
    assert STATUS_RE.search(public["description"])
    assert PUBLIC_TITLE in public["description"] and PUBLIC_NOTE in public["description"]


def test_the_confidential_incident_lived_in_private_on_gitlab(life: Life) -> None:
    """The controls: the incident went through its life, in its confidential issues and its
    own channel, so the search above had something to miss."""
    fake, number = life.fake, life.number
    # the confidential status issue: exists, is confidential, lists the incident and its note
    [private] = [i for i in fake.issues.values() if STATUS_LABEL in i["labels"] and i["author"] == fake.bot and i["confidential"]]
    assert private["title"] == PRIVATE_INDEX_TITLE and private["state"] == "opened"
    assert SECRET_TITLE in private["description"] and "marmalade" in private["description"]
    assert f"history source {number}" in life.secret.in_index(private["description"])
    assert PUBLIC_TITLE not in private["description"]
    outage = fake.issue(life.outage)
    assert outage["confidential"] is True and outage["issue_type"] == "incident" and outage["state"] == "closed"
    notes = " ".join(fake.stored_notes(number) + fake.stored_notes(life.outage))
    assert all(word in notes for word in ("Escalation", "left", "Acknowledged", "Deadline missed", "marmalade"))
    security = life.sink.texts("security")
    assert any("Quokka" in t for t in security) and any("marmalade" in t for t in security)
    assert len(security) >= 5 and len(life.sink.texts("alerts")) >= 5
    assert fake.quick_actions == []


def test_the_job_logs_do_not_name_it_on_gitlab(life: Life) -> None:
    """A public project's job logs are public: no title, no resolution note in them (the
    number is not looked for: the source issue here is public anyway)."""
    secret = Secret(SECRET_TITLE, None, SECRET_NOTE)
    count, found = count_hits(secret, [(f"job log {i + 1}", text) for i, text in enumerate(life.log)])
    assert count == 0, "\n".join(found)


def test_declaring_a_confidential_kind_by_hand_opens_no_public_issue_on_gitlab(tmp_path: Path) -> None:
    body = tmp_path / "body.md"
    body.write_text(SECRET_BODY, encoding="utf-8")
    with FakeGitLab(now=T0) as fake, ChatSink() as sink:
        pipeline = Pipeline(fake, sink, tmp_path)
        result = CliRunner().invoke(cli, ["declare", "--severity", "critical", "--kind", "security", "--title", SECRET_TITLE,
                                          "--body-file", str(body), "--now", T0.isoformat()], env=pipeline.environ("web"))
        assert result.exit_code == 0, result.output
        secret = Secret(SECRET_TITLE, None, SECRET_BODY)
        count, found = count_hits(secret, public_places(fake, sink, secret))
        assert count == 0, "\n".join(found)
        assert any(i["title"] == SECRET_TITLE and i["confidential"] for i in fake.issues.values())
