"""The status site (`outage-bot status-page`) built from incidents on the local forge: what it
shows while an incident lasts and after, what it never shows, its feed, its JSON, its policy."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import feedparser
import jsonschema
import pytest
from click.testing import CliRunner
from core_helpers import T0, Sandbox
from status_page_helpers import schema, site_text, synthetic

from bot.cli import cli
from bot.errors import ConfigError
from bot.events import EventKind
from bot.policy_file import parse_policy
from bot.resources import default_policy_path
from bot.status_page.build import build_site, environment
from bot.status_page.shell import read_incidents, write_site

BODY = """### What is broken

Uploads of new releases fail with a timeout.

### Who is affected

Everyone publishing a release.

### Workaround

Upload from the command line with a longer timeout.

### Upstream status

https://status.example.org/incidents/42
"""
SECRET = "Zanzibar-token-leak"  # words of a confidential incident: in no file of the site


def build(box: Sandbox) -> dict[str, str | bytes]:
    return build_site(read_incidents(box.forge, box.policy), box.policy, box.clock.now, environment(None))


def text(files: dict[str, str | bytes], name: str) -> str:
    content = files[name]
    return content.decode("utf-8") if isinstance(content, bytes) else content


def declare(box: Sandbox, title: str = "Uploads fail", labels: tuple[str, ...] = ("priority::highest",), body: str = BODY) -> int:
    issue = box.open_issue(title, labels=labels, body=body)
    report = box.runner().handle(box.event(EventKind.LABELED, issue.number, label=labels[0]))
    assert not report.failures
    return issue.number


def test_an_incident_on_the_front_page_while_it_lasts_then_in_the_history(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    number = declare(box)
    box.clock.now = T0 + timedelta(minutes=30)
    box.runner().handle(box.comment(number, "/ack", "maintainer"))

    files = build(box)
    index = text(files, "index.html")
    assert "Uploads fail" in index and "Major outage" in index
    assert "Upload from the command line with a longer timeout." in index  # the users' words
    assert "We are investigating" in index and "The problem is being worked on." in index
    assert index.index("We are investigating") < index.index("The problem is being worked on.")  # in time order
    assert '<a href="https://status.example.org/incidents/42"' in index  # the upstream link
    assert json.loads(text(files, "api/v2/status.json"))["status"]["indicator"] == "critical"

    box.clock.now = T0 + timedelta(hours=3)
    box.runner().handle(box.comment(number, "/resolve Rolled back the storage change", "maintainer"))
    files = build(box)
    index = text(files, "index.html")
    assert "All systems operational" in index and "No incident in progress." in index
    assert "Uploads fail" in index.split("Last 90 days")[1]  # in the history, with its duration
    assert "lasted 3h" in index
    month = text(files, "history/2026-11.html")
    assert "Uploads fail" in month and "Rolled back the storage change" in month and "Upload from the command line" in month
    # only what users are told: nobody's name, handle or login
    everything = site_text({n: c for n, c in files.items() if n != "style.css"})
    for person in ("maintainer", "release-lead", "Release lead", "Engineer A", "eng-a", "reporter", "@"):
        assert person not in everything, person


def test_a_confidential_incident_appears_in_no_file_not_even_as_an_incident(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    declare(box, title=f"{SECRET} in the build logs", labels=("priority::highest", "security"),
            body=f"### What is broken\n\n{SECRET} exposed\n")
    box.clock.now = T0 + timedelta(minutes=10)
    box.runner().tick()  # the status index, public and private
    files = build(box)
    assert SECRET not in site_text(files)
    summary = json.loads(text(files, "api/v2/summary.json"))
    assert summary["status"]["indicator"] == "none" and summary["incidents"] == []
    assert "All systems operational" in text(files, "index.html") and "No incident in progress." in text(files, "index.html")
    assert json.loads(text(files, "api/v2/incidents.json"))["incidents"] == []
    assert feedparser.parse(files["feed.atom"]).entries == []


def test_a_kind_made_confidential_later_leaves_the_site(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    number = declare(box, title=f"{SECRET} first thought an outage")
    box.forge.add_labels(number, ["security"])  # someone sees what it is
    assert SECRET not in site_text(build(box))


def test_the_feed_has_one_entry_per_update_and_a_feed_reader_reads_it(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    first = declare(box, "Uploads fail")
    box.clock.now = T0 + timedelta(minutes=5)
    box.runner().handle(box.comment(first, "/ack", "maintainer"))
    second = declare(box, "Search is slow", labels=("priority::high",), body="")
    box.clock.now = T0 + timedelta(hours=2)
    box.runner().handle(box.comment(second, "/resolve Index rebuilt", "maintainer"))
    incidents = read_incidents(box.forge, box.policy)
    files = build_site(incidents, box.policy, box.clock.now, environment(None))
    feed = feedparser.parse(files["feed.atom"])
    assert not feed.bozo, feed.bozo_exception
    assert len(feed.entries) == sum(len(i.updates) == 0 or len(i.updates) for i in incidents) == 4
    assert len({e.id for e in feed.entries}) == 4
    titles = [e.title for e in feed.entries]
    assert titles[0] == "Resolved: Search is slow" and "Identified: Uploads fail" in titles
    assert any("Index rebuilt" in e.summary for e in feed.entries)


def test_the_json_has_the_shape_statuspage_documents(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    declare(box)
    declare(box, "An upstream registry is down", labels=("upstream",), body="")
    files = build(box)
    documents = {name: json.loads(text(files, name)) for name in files if name.startswith("api/v2/")}
    assert set(documents) == {f"api/v2/{n}.json" for n in ("summary", "status", "components", "incidents", "incidents/unresolved")}
    for name, document in documents.items():
        jsonschema.validate(document, schema()), name
    summary = documents["api/v2/summary.json"]
    assert summary["status"] == {"indicator": "critical", "description": "Major outage"}
    assert [c["name"] for c in summary["components"]] == ["Outage", "Upstream"]  # one per kind that is not confidential
    statuses = {c["name"]: c["status"] for c in summary["components"]}
    # an incident of no kind affects every component (nothing says which); the upstream one its own
    assert statuses == {"Outage": "major_outage", "Upstream": "major_outage"}
    assert len(summary["incidents"]) == 2


def test_components_from_the_policy(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.yml"
    policy_file.write_text(default_policy_path().read_text() + """
status_page:
  name: Example status
  components:
    - {name: Uploads, description: Publishing releases, labels: [area/uploads]}
    - {name: Mirrors, kinds: [upstream]}
""")
    box = Sandbox(tmp_path / "box", policy_file)
    declare(box, labels=("priority::higher", "area/uploads"))
    files = build(box)
    summary = json.loads(text(files, "api/v2/summary.json"))
    assert {c["name"]: c["status"] for c in summary["components"]} == {"Uploads": "partial_outage", "Mirrors": "operational"}
    assert summary["page"]["name"] == "Example status"
    assert "Publishing releases" in text(files, "index.html")


def test_uptime_counts_outages_from_incident_times(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    number = declare(box)  # the most severe: down time
    box.clock.now = T0 + timedelta(hours=7, minutes=12)  # 0.01 of 30 days
    box.runner().handle(box.comment(number, "/resolve fixed", "maintainer"))
    box.clock.now = T0 + timedelta(days=1)
    components = json.loads(text(build(box), "api/v2/components.json"))["components"]
    index = text(build(box), "index.html")
    assert "99 %" in index and "99.67 %" in index  # 30 and 90 days
    assert components[0]["status"] == "operational"


def test_an_overridden_template_is_used(tmp_path: Path) -> None:
    own = tmp_path / "templates" / "status_page"
    own.mkdir(parents=True)
    (own / "badge.svg.j2").write_text('<svg xmlns="http://www.w3.org/2000/svg"><text>{{ site.banner }} (ours)</text></svg>\n')
    policy_file = tmp_path / "policy.yml"
    policy_file.write_text(default_policy_path().read_text() + "templates: templates\n")
    box = Sandbox(tmp_path / "box", policy_file)
    files = build_site([], box.policy, box.clock.now, environment(tmp_path / "templates"))
    assert text(files, "badge.svg").startswith('<svg xmlns="http://www.w3.org/2000/svg"><text>All systems operational (ours)')
    assert "<!doctype html>" in text(files, "index.html")  # the bundled ones fill in the rest


def test_user_text_is_escaped(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    declare(box, title='<script>alert(1)</script> "quoted"', body="### Workaround\n\n<img src=x onerror=alert(1)>\n")
    files = build(box)
    pages = site_text({n: c for n, c in files.items() if n.endswith((".html", ".svg", ".atom"))})
    assert "<script>alert" not in pages and "<img src=x" not in pages
    assert "&lt;script" in text(files, "index.html") and "&#34;quoted&#34;" in text(files, "index.html")


@pytest.mark.parametrize(
    ("components", "expected"),
    [
        ("- {name: A, kinds: [nope]}", "p.yml:17:25: status_page.components[0].kinds[0]: unknown kind 'nope'"),
        ("- {name: A, kinds: [security]}", "status_page.components[0].kinds[0]: kind 'security' is confidential"),
        ("- {name: A}", "p.yml:17:7: status_page.components[0]: a component needs `labels:` or `kinds:`"),
        ("- {name: A, label: [x]}", "status_page.components[0].label: unknown key 'label' (did you mean 'labels'?"),
        ("- {name: A, labels: [x]}\n    - {name: A, labels: [y]}", "status_page.components[1].name: component 'A' is listed twice"),
        ("{name: A}", "p.yml:17:5: status_page.components: Input should be a valid list"),
    ],
)
def test_bad_components_are_located(components: str, expected: str) -> None:
    text_ = """\
timezone: UTC
severities:
  critical:
    labels: [priority::highest]
kinds:
  security: {labels: [security], confidential: true}
  upstream: {labels: [upstream]}
channels: {}
people: {}
labels: {}
permissions: {}
oncall: null
templates: null
status_page:
  name: Status
  components:
    %s
""" % components
    with pytest.raises(ConfigError) as exc:
        parse_policy(text_, "p.yml", template_names=set())
    found = [str(p) for p in exc.value.problems]
    assert any(line.startswith(expected) or expected in line for line in found), found


def test_the_command_writes_the_site_and_removes_what_it_no_longer_builds(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "box")
    declare(box)
    out = tmp_path / "public"
    (out / "history").mkdir(parents=True)
    (out / "CNAME").write_text("status.example.org\n")  # the user's: kept
    args = ["status-page", "--forge", "local", "--db", str(box.db), "--out", str(out), "--now", (T0 + timedelta(hours=1)).isoformat()]
    dry = CliRunner().invoke(cli, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would write" in dry.output and not (out / "index.html").exists()
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "1 incidents (1 in progress)" in result.output
    assert {"index.html", "feed.atom", "badge.svg", "style.css"} <= {p.name for p in out.iterdir()}
    assert "Uploads fail" in (out / "index.html").read_text()
    # an earlier build's page that this one does not write goes; the user's file stays
    write_site({"history/2020-01.html": "old", **{"index.html": "x"}}, tmp_path / "scratch")
    (out / ".outage-bot-site").write_text((out / ".outage-bot-site").read_text() + "history/2020-01.html\n")
    (out / "history" / "2020-01.html").write_text("stale")
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert not (out / "history" / "2020-01.html").exists() and (out / "CNAME").exists()


def test_thousands_of_incidents_build_in_seconds_into_small_pages() -> None:
    box_policy = Sandbox.__new__(Sandbox)  # only the policy is needed
    from bot.config import load

    policy, _ = load(default_policy_path())
    del box_policy
    incidents = synthetic(1000, T0, policy)
    started = time.perf_counter()
    files = build_site(incidents, policy, T0, environment(None))
    elapsed = time.perf_counter() - started
    largest = max(len(c.encode("utf-8") if isinstance(c, str) else c) for c in files.values())
    assert elapsed < 10, elapsed
    assert largest < 200_000, largest
    assert any(name.startswith("history/") and name.endswith("-2.html") for name in files) or len(files) > 50
    months = [n for n in files if n.startswith("history/20")]
    assert len(months) >= 50  # five years, a page a month
    assert len(feedparser.parse(files["feed.atom"]).entries) == 100  # the newest updates only
