"""The README's report excerpt and charts, from a small synthetic set of incidents.

    .venv/bin/python benchmarks/report_sample.py            # prints the Markdown
    .venv/bin/python benchmarks/report_sample.py docs       # and writes docs/report-*.svg

Twelve weeks of made-up incidents (a seeded random draw, so the same every run) in the bundled
default policy's severities and zone: the same pure model, views and charts `outage-bot report`
uses, without a forge. tests/test_report.py builds its chart tests on `sample()` too.
"""

from __future__ import annotations

import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.report.model import Record, Report, build

NOW = datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc)
SINCE = NOW - timedelta(weeks=12)
TZ = ZoneInfo("America/New_York")
SEVERITIES = ("critical", "major", "minor")
PEOPLE = ("release-lead", "platform-lead", "eng-a", "eng-b")
TITLES = ("pipx install fails for the latest release", "Docs site returns 502", "Wheel missing for Python 3.13 on macOS",
          "CI badge stuck on failing", "Search returns no results", "Nightly build publishes an empty archive")


def sample(seed: int = 15) -> list[Record]:
    """About two dozen incidents over twelve weeks: most acknowledged, a few never, some
    false positives, one confidential, one still in progress."""
    draw = random.Random(seed)
    records: list[Record] = []
    for n in range(1, 25):
        severity = draw.choices(SEVERITIES, weights=(2, 3, 4))[0]
        declared = SINCE + timedelta(minutes=draw.randrange(0, 12 * 7 * 24 * 60))
        scale = {"critical": 1.0, "major": 3.0, "minor": 8.0}[severity]
        ack = timedelta(minutes=draw.lognormvariate(3.2, 0.9) * scale)
        fix = ack + timedelta(minutes=draw.lognormvariate(5.0, 0.8) * scale)
        if n == 7:  # the confidential one: long enough to be among the slowest, never named
            severity, fix = "critical", timedelta(hours=30)
        unacked = draw.random() < 0.12
        status = "false_positive" if n in (5, 11, 19) else "resolved"
        resolved = declared + fix
        if resolved > NOW:
            status, resolved = "acknowledged", None
        records.append(Record(
            source=n * 3, title=draw.choice(TITLES), severity=severity, status=status, declared_at=declared,
            acknowledged_at=None if unacked else declared + ack, acknowledged_by=None if unacked else draw.choice(PEOPLE),
            resolved_at=resolved, escalations=int(ack > timedelta(hours=12) or unacked),
            breached=fix > {"critical": timedelta(hours=6), "major": timedelta(hours=24)}.get(severity, fix),
            confidential=n == 7))
    return records


def sample_report() -> Report:
    return build(sample(), since=SINCE, now=NOW, tz=TZ, severities=SEVERITIES)


def main(argv: list[str]) -> None:
    from bot.report.view import to_markdown

    report = sample_report()
    print(to_markdown(report), end="")
    if argv:
        from bot.report.charts import write_charts

        for path in write_charts(report, Path(argv[0])):
            print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
