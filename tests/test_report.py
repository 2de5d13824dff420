"""`outage-bot report`: the pure model's numbers (tables), the views, the charts, the command.

The demo test takes its expectation from the demo's own printed timeline (who did what at
which minute), never from the report's output; the ledger the demo left agrees too.
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.ledger import Ledger, decode_ledger
from bot.report.model import Record, build, quantile, row_of
from bot.report.view import to_json, to_markdown

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from report_sample import sample_report  # benchmarks/ is not a package

UTC = timezone.utc
NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 11, 9, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York
H = 3600.0
SVG = "{http://www.w3.org/2000/svg}"


def rec(n: int, *, sev: str = "critical", status: str = "resolved", at: datetime = T0, ack: float | None = None,
        fix: float | None = 10.0, by: str | None = "taylor", title: str = "", **kw: object) -> Record:
    """An incident declared `at`, acknowledged `ack` hours and resolved `fix` hours later."""
    return Record(source=n, title=title or f"incident {n}", severity=sev, status=status, declared_at=at,
                  acknowledged_at=None if ack is None else at + timedelta(hours=ack),
                  acknowledged_by=by if ack is not None else None,
                  resolved_at=None if fix is None else at + timedelta(hours=fix), **kw)  # type: ignore[arg-type]


def report_of(records: list[Record], *, since: datetime = T0 - timedelta(days=30), now: datetime = T0 + timedelta(days=3)):
    return build(records, since=since, now=now, tz=NY, severities=("critical", "major", "minor"))


# -- the pure model -----------------------------------------------------------------------------

@pytest.mark.parametrize(("values", "median", "p90"), [
    ([], None, None),
    ([5.0], 5.0, 5.0),
    ([1.0, 3.0], 2.0, 2.8),
    ([4.0, 1.0, 3.0, 2.0], 2.5, 3.7),  # unsorted in; the mean of the middle two
    ([float(v) for v in range(1, 11)], 5.5, 9.1),
    ([1.0, 1.0, 1.0, 100.0], 1.0, 70.3),  # the long tail the mean (25.75) would hide
])
def test_median_and_p90_interpolate_between_ranks(values: list[float], median: float | None, p90: float | None) -> None:
    assert quantile(values, 0.5) == pytest.approx(median) if median is not None else quantile(values, 0.5) is None
    assert quantile(values, 0.9) == pytest.approx(p90) if p90 is not None else quantile(values, 0.9) is None


@pytest.mark.parametrize(("records", "expected"), [
    # acknowledged after 1h and 3h: median 2h; resolved after 10h and 20h
    ([rec(1, ack=1, fix=10), rec(2, ack=3, fix=20)],
     {"incidents": 2, "unacknowledged": 0, "mtta": (2, 2 * H, 2.8 * H), "mttr": (2, 15 * H, 19 * H)}),
    # never acknowledged: counted apart, not as a time of zero (the median stays 3h, not 1.5h)
    ([rec(1, ack=None, fix=5), rec(2, ack=3, fix=20)],
     {"incidents": 2, "unacknowledged": 1, "mtta": (1, 3 * H, 3 * H), "mttr": (2, 12.5 * H, 18.5 * H)}),
    # nobody acknowledged anything: no MTTA at all
    ([rec(1, ack=None, fix=5)], {"incidents": 1, "unacknowledged": 1, "mtta": (0, None, None), "mttr": (1, 5 * H, 5 * H)}),
    # a false positive is counted apart and in no time
    ([rec(1, ack=1, fix=2), rec(2, status="false_positive", ack=None, fix=0.5)],
     {"incidents": 1, "false_positives": 1, "unacknowledged": 0, "mtta": (1, H, H), "mttr": (1, 2 * H, 2 * H)}),
    # an acknowledgement recorded a moment before the declaration (a lost event) is 0, not negative
    ([rec(1, ack=-0.01, fix=1)], {"mtta": (1, 0.0, 0.0)}),
    # breaches and escalations: incidents and notices
    ([rec(1, ack=13, fix=30, breached=True, escalations=2), rec(2, ack=1, fix=2), rec(3, ack=None, fix=3, escalations=1)],
     {"breached": 1, "escalated": 2, "escalations": 3}),
], ids=["two", "unacknowledged-apart", "none-acknowledged", "false-positive-apart", "clamped", "breaches"])
def test_row_numbers(records: list[Record], expected: dict[str, object]) -> None:
    row = row_of(records)
    for key, want in expected.items():
        got = getattr(row, key)
        if key in ("mtta", "mttr"):
            n, median, p90 = want  # type: ignore[misc]
            assert (got.n, got.median, got.p90) == (n, pytest.approx(median) if median is not None else None,
                                                    pytest.approx(p90) if p90 is not None else None), key
        else:
            assert got == want, key


@pytest.mark.parametrize(("declared", "week"), [
    (datetime(2026, 11, 9, 14, 0, tzinfo=UTC), "2026-W46"),  # Monday morning in New York
    (datetime(2026, 11, 16, 3, 30, tzinfo=UTC), "2026-W46"),  # Monday in UTC, still Sunday 22:30 in New York
    (datetime(2026, 11, 16, 5, 30, tzinfo=UTC), "2026-W47"),
    (datetime(2027, 1, 1, 12, 0, tzinfo=UTC), "2026-W53"),  # ISO: 2026 has 53 weeks, Jan 1 2027 is in its last
    (datetime(2027, 1, 4, 12, 0, tzinfo=UTC), "2027-W01"),
])
def test_an_incident_counts_in_its_iso_week_on_the_policys_calendar(declared: datetime, week: str) -> None:
    report = report_of([rec(1, at=declared, ack=1, fix=2)], since=datetime(2026, 11, 1, tzinfo=UTC),
                       now=datetime(2027, 1, 10, tzinfo=UTC))
    counted = [w.key for w in report.weeks if w.row.incidents]
    assert counted == [week]
    keys = [w.key for w in report.weeks]
    assert keys[0] == "2026-W44" and keys[-1] == "2027-W01" and len(keys) == len(set(keys)) == 11  # W44..W53, W01: empty ones too


def test_window_in_progress_order_and_who_acknowledged() -> None:
    since, now = T0 - timedelta(days=14), T0 + timedelta(days=2)
    records = [
        rec(1, at=since - timedelta(minutes=1), ack=1, fix=2),  # declared before the window: not counted
        rec(2, ack=1, fix=2, by="will"),
        rec(3, sev="minor", ack=2, fix=8, by="taylor"),
        rec(4, sev="major", ack=1, fix=None, status="acknowledged", by="aj"),  # in progress: apart
        rec(5, sev="major", ack=0.5, fix=1, by="taylor"),
        rec(6, sev="retired", ack=0.5, fix=40, by="will"),  # a severity the policy no longer has: listed last
        rec(7, status="false_positive", ack=0.1, fix=0.2, by="aj"),  # a false positive acknowledges nobody's load
    ]
    report = report_of(records, since=since, now=now)
    assert report.total.incidents == 4 and report.total.false_positives == 1 and report.in_progress == 1
    assert list(report.severities) == ["critical", "major", "minor", "retired"]
    assert [report.severities[s].incidents for s in report.severities] == [1, 1, 1, 1]
    assert report.acknowledgers == (("taylor", 2), ("will", 2))
    assert [r.source for r in report.slowest] == [6, 3, 2, 5]
    assert [r.source for r in report.incidents] == [2, 3, 5, 6, 7]


def test_confidential_incidents_count_but_their_titles_never_appear() -> None:
    secret = "Credentials leaked in the build log of nightly-7"
    records = [rec(1, ack=1, fix=50, title=secret, confidential=True), rec(2, ack=2, fix=3, title="Docs site returns 502")]
    report = report_of(records)
    assert report.total.incidents == 2 and report.total.mttr.n == 2
    assert report.slowest[0].source == 1  # the longest of all, listed without its name
    markdown, data = to_markdown(report), json.dumps(to_json(report))
    for text in (markdown, data):
        assert secret not in text and "Credentials" not in text and "nightly" not in text
        assert "Docs site returns 502" in text
    assert "| a confidential incident | critical | 1h | 2d 2h |" in markdown and "#1 " not in markdown
    listed = {i["mtta"]: i for i in to_json(report)["incidents"]}
    assert listed[H]["title"] is None and listed[H]["issue"] is None and listed[H]["confidential"] is True


def test_markdown_keeps_user_text_inert() -> None:
    report = report_of([rec(1, ack=1, fix=2, title="a | b @team #12 [x](http://evil)")])
    markdown = to_markdown(report)
    row = next(line for line in markdown.splitlines() if line.startswith("| #1 "))
    assert row.count("|") == 5  # the title's pipe does not add a cell
    assert "@team" not in row and "](http" not in row


def test_markdown_excerpt() -> None:
    markdown = to_markdown(report_of([rec(1, ack=1, fix=2), rec(2, ack=None, fix=5), rec(3, status="false_positive")]))
    assert markdown.startswith("## Incident report, 2026-10-10 to 2026-11-12\n")
    assert "2 incidents resolved (1 acknowledged, 1 never acknowledged); 1 false positive and 0 still in progress" in markdown
    assert "| critical | 2 | 1h | 1h | 1 | 3h 30m | 4h 42m | 0 | 0 | 1 |" in markdown
    assert "| 2026-W46 (from Nov 09) | 2 |" in markdown


# -- the charts ---------------------------------------------------------------------------------

def _svg(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return root


def test_the_charts_are_valid_svg_with_text_and_no_timestamp(tmp_path: Path) -> None:
    from bot.report.charts import write_charts

    report = sample_report()
    first = write_charts(report, tmp_path / "a")
    assert [p.name for p in first] == ["report-mtt.svg", "report-severity.svg"]
    for path in first:
        root = _svg(path)
        assert root.findall(f".//{SVG}path")
        texts = [t.text or "" for t in root.iter(f"{SVG}text")]  # svg.fonttype none: real text
        assert texts
        raw = path.read_text(encoding="utf-8")
        assert "<dc:date>" not in raw and "Matplotlib v" not in raw
    mtt_texts = " ".join(t.text or "" for t in _svg(first[0]).iter(f"{SVG}text"))
    assert "W46" in mtt_texts and "hours" in mtt_texts and "Time to acknowledge" in mtt_texts
    severity_texts = [t.text for t in _svg(first[1]).iter(f"{SVG}text")]
    assert {"critical", "major", "minor"} <= set(severity_texts)
    # deterministic: the same report draws the same bytes
    second = write_charts(report, tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_the_sample_charts_name_no_incident(tmp_path: Path) -> None:
    from bot.report.charts import write_charts

    report = sample_report()
    titles = {r.title for r in report.incidents}
    for path in write_charts(report, tmp_path):
        raw = path.read_text(encoding="utf-8")
        assert not any(title in raw for title in titles)


# -- the command, on the demo's database --------------------------------------------------------

DEMO_LINE = re.compile(r"^(Mon|Tue) (\d\d):(\d\d) +(.*)$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    result = CliRunner().invoke(cli, ["demo", "--quiet", "--keep", str(db)])
    assert result.exit_code == 0, result.output
    return db, result.output


def _minute(line: str) -> int:
    """Minutes since Monday 00:00 of a demo timeline line ("Tue 08:25 ...")."""
    match = DEMO_LINE.match(line)
    assert match, line
    day, hour, minute = match.group(1), int(match.group(2)), int(match.group(3))
    return (0 if day == "Mon" else 24 * 60) + hour * 60 + minute


def _report(db: Path, *args: str, **env: str) -> tuple[int, str, str]:
    result = CliRunner(env=env or None).invoke(
        cli, ["report", "--forge", "local", "--db", str(db), "--now", "2026-11-20T12:00Z", *args])
    return result.exit_code, result.stdout, result.stderr


def test_report_json_on_the_demo_matches_the_demos_own_timeline(demo: tuple[Path, str]) -> None:
    db, output = demo
    lines = output.splitlines()
    opened = _minute(next(line for line in lines if "opens an issue" in line))
    eyes = _minute(next(line for line in lines if "reacts 👀" in line))
    resolved = _minute(next(line for line in lines if "comments /resolve" in line))
    code, out, err = _report(db, "--json")
    assert code == 0, err
    data = json.loads(out)
    total = data["total"]
    assert total["incidents"] == 1 and total["unacknowledged"] == 0 and total["false_positives"] == 0
    assert total["mtta"]["n"] == 1 and total["mtta"]["median"] / 60 == eyes - opened  # to the minute
    assert total["mttr"]["n"] == 1 and total["mttr"]["median"] / 60 == resolved - opened
    critical = data["severities"]["critical"]
    assert critical["mtta"]["median"] == total["mtta"]["median"] and critical["escalated"] == 1
    assert critical["breached"] == 0  # resolved before the 24h deadline
    # the ledger the demo left says the same
    ledger = _demo_ledger(db)
    inc = ledger.incident
    assert inc.acknowledged_at is not None and inc.resolved_at is not None
    assert total["mtta"]["median"] == (inc.acknowledged_at - inc.declared_at).total_seconds()
    assert total["mttr"]["median"] == (inc.resolved_at - inc.declared_at).total_seconds()
    (incident,) = data["incidents"]
    assert incident["issue"] == 1 and incident["title"] == inc.title and incident["escalations"] == 1
    week = next(w for w in data["weeks"] if w["incidents"])
    assert week["week"] == "2026-W46" and week["monday"] == "2026-11-09"
    assert data["acknowledged_by"] == {"platform-lead": 1}


def _demo_ledger(db: Path) -> Ledger:
    from bot.adapters.local import LocalForge

    forge = LocalForge(str(db))
    for comment in forge.list_comments(1):
        ledger = decode_ledger(comment.body)
        if ledger is not None:
            return ledger
    raise AssertionError("no ledger on #1")


def test_report_markdown_charts_and_step_summary_on_the_demo(demo: tuple[Path, str], tmp_path: Path) -> None:
    db, _ = demo
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    code, out, err = _report(db, "--out", str(tmp_path / "charts"), GITHUB_STEP_SUMMARY=str(summary))
    assert code == 0, err
    assert out.startswith("## Incident report, ")
    assert "| critical | 1 | 12h 25m | 12h 25m | 0 | 23h 25m | 23h 25m | 0 | 1 | 0 |" in out
    assert summary.read_text(encoding="utf-8") == "earlier step\n" + out + "\n"  # appended, not replaced
    for name in ("report-mtt.svg", "report-severity.svg"):
        _svg(tmp_path / "charts" / name)
        assert f"wrote {tmp_path / 'charts' / name}" in err


def test_report_dry_run_writes_nothing(demo: tuple[Path, str], tmp_path: Path) -> None:
    db, _ = demo
    summary = tmp_path / "summary.md"
    code, out, err = _report(db, "--dry-run", "--out", str(tmp_path / "charts"), GITHUB_STEP_SUMMARY=str(summary))
    assert code == 0, err
    assert out.startswith("## Incident report")
    assert "would write" in err and not (tmp_path / "charts").exists() and not summary.exists()


def test_a_confidential_incident_on_the_local_forge_counts_without_its_title(tmp_path: Path) -> None:
    """A security incident (a confidential kind) declared and resolved on the local forge."""
    db = tmp_path / "forge.sqlite"
    policy = ROOT / "tests" / "fixtures" / "contract_policy.yml"
    base = ["--forge", "local", "--db", str(db), "--config", str(policy)]
    runner = CliRunner()
    secret = "Token leaked in the nightly build log"
    result = runner.invoke(cli, ["declare", *base, "--severity", "critical", "--kind", "security", "--title", secret,
                                 "--now", "2026-11-10T10:00Z"])
    assert result.exit_code == 0, result.output
    number = int(re.search(r"opened #(\d+)", result.output).group(1))  # type: ignore[union-attr]
    event = tmp_path / "resolve.json"
    event.write_text(json.dumps({"action": "comment", "issue": number, "body": "/resolve rotated", "actor": "taylor-gh"}))
    result = runner.invoke(cli, ["handle", *base, "--event", str(event), "--now", "2026-11-10T13:00Z"])
    assert result.exit_code == 0, result.output
    for args in ([], ["--json"]):
        result = runner.invoke(cli, ["report", *base, "--now", "2026-11-20T00:00Z", *args])
        assert result.exit_code == 0, result.output
        assert secret not in result.stdout and "Token leaked" not in result.stdout
    data = json.loads(result.stdout)
    assert data["total"]["incidents"] == 1 and data["total"]["mttr"]["median"] == 3 * H
    assert data["total"]["unacknowledged"] == 1
    assert data["incidents"][0]["confidential"] is True and data["incidents"][0]["title"] is None


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "3 months"], "--since: '3 months' is not a duration"),
    (["--since", "0d"], "--since: '0d' is not a positive duration"),
])
def test_bad_options_are_user_errors(demo: tuple[Path, str], args: list[str], message: str) -> None:
    code, _, err = _report(demo[0], *args)
    assert code == 1 and message in err


def test_a_missing_database_is_a_user_error(tmp_path: Path) -> None:
    code, _, err = _report(tmp_path / "nope.sqlite")
    assert code == 1 and "nope.sqlite: no such file" in err
    assert not (tmp_path / "nope.sqlite").exists()


def test_charts_without_matplotlib_name_the_extra(demo: tuple[Path, str], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # as if the `report` extra were not installed: `import matplotlib` fails
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, out, err = _report(demo[0], "--out", str(tmp_path / "charts"))
    assert code == 1 and out == ""
    assert err.strip().splitlines()[-1] == (
        "outage-bot: outage-bot report --out needs the Python module 'matplotlib', which is not installed: "
        "pip install 'outage-bot[report]'")
    assert not (tmp_path / "charts").exists()
    # without --out, the report needs no matplotlib
    code, out, err = _report(demo[0])
    assert code == 0 and out.startswith("## Incident report"), err


# -- the shell: a ledger's record ---------------------------------------------------------------

@pytest.mark.parametrize(("done", "resolved_after", "escalations", "breached"), [
    ((), 2, 0, False),
    # an escalation notice and its chat posts: one escalation
    (("5:g2:escalate:critical:20261109T140000:0", "5:g2:escalate:critical:20261109T140000:0:chat:alerts",
      "5:g2:escalate:critical:20261109T140000:0:chat:alerts:root"), 2, 1, False),
    # two steps, and the earlier generation's (before a reopen) left out
    (("5:g2:escalate:critical:20261109T140000:0", "5:g2:escalate:critical:20261109T140000:1",
      "5:g1:escalate:critical:20261101T140000:0", "5:g1:breach:critical:20261101T140000:0"), 2, 2, False),
    # a breach notice was sent
    (("5:g2:breach:critical:20261109T140000:0", "5:g2:breach:critical:20261109T140000:0:chat:alerts"), 2, 0, True),
    # resolved after the 24h deadline (no tick saw it in time): breached all the same
    ((), 25, 0, True),
], ids=["nothing", "one-escalation", "two-steps-this-generation", "breach-notice", "late"])
def test_record_of_a_ledger(done: tuple[str, ...], resolved_after: float, escalations: int, breached: bool) -> None:
    from bot.config import load
    from bot.incident import Incident
    from bot.report.shell import record_of

    policy, _ = load(ROOT / "tests" / "fixtures" / "contract_policy.yml")
    inc = Incident(source=5, severity="critical", kind=None, status="resolved", title="x", declared_at=T0,
                   severity_since=T0, generation=2, acknowledged_at=T0 + timedelta(minutes=5), acknowledged_by="willds",
                   resolved_at=T0 + timedelta(hours=resolved_after))
    record = record_of(Ledger(incident=inc, done=frozenset(done)), policy, "github")
    assert (record.escalations, record.breached) == (escalations, breached)
    assert record.acknowledged_by == "will"  # the policy's person id for the GitHub login
    assert not record.confidential
    assert record_of(Ledger(incident=inc.with_(kind="security")), policy, "github").confidential
