"""How long the on-call views take for a big team: a year ahead, 50 members, 200 overrides.

Run: python benchmarks/bench_oncall.py   (from the repository root; not a timed test)

`oncall schedule` and `oncall ics` run in CI jobs and `tick` computes handoffs every run, so
the whole year should take well under a second.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a checkout

from bot.oncall import check_oncall, handoffs_between, on_call, shifts_between
from bot.oncall_view import schedule_table, to_ics
from bot.policy import OnCall, Person

TZ = ZoneInfo("America/New_York")
MEMBERS = [f"eng{i:02d}" for i in range(50)]
COVERS = [f"cover{i}" for i in range(5)]  # people outside the rotation (managers, leads)
START = datetime(2026, 11, 2, 12, 0)
REPEAT = 7


def big_rotation(seed: int = 6) -> OnCall:
    """50 members and 200 overrides over the year, each replacing someone who is on call then
    (the realistic case: people trade or get cover for their own weeks), none of them invalid."""
    rng = random.Random(seed)
    rotation = {"members": MEMBERS, "start": START.date().isoformat(), "handoff": "monday 12:00", "shift": "1w"}
    plain = OnCall.model_validate({"rotation": rotation})
    overrides: list[dict[str, object]] = []
    while len(overrides) < 200:
        begin = START + timedelta(hours=rng.randrange(0, 365 * 24))
        shift = on_call(plain, TZ, begin)
        candidate = {
            "who": rng.choice(COVERS),
            "instead_of": rng.choice([shift.primary, shift.secondary]),
            "from": begin,
            "to": begin + timedelta(hours=rng.randrange(2, 24 * 4)),
        }
        trial = OnCall.model_validate({"rotation": rotation, "overrides": [*overrides, candidate]})
        if not list(check_oncall(trial, TZ)):
            overrides.append(candidate)
    return OnCall.model_validate({"rotation": rotation, "overrides": overrides})


def best_and_median(job: Callable[[], object]) -> tuple[float, float]:
    times = []
    for _ in range(REPEAT):
        began = time.perf_counter()
        job()
        times.append(time.perf_counter() - began)
    return min(times), statistics.median(times)


def main() -> None:
    oncall = big_rotation()
    people = {m: Person.model_validate({"name": f"Engineer {m[3:]}"}) for m in MEMBERS + COVERS}
    start, end = START.replace(tzinfo=TZ), (START + timedelta(days=365)).replace(tzinfo=TZ)
    problems = list(check_oncall(oncall, TZ))
    shifts = shifts_between(oncall, TZ, start, end)
    feed = to_ics(oncall, TZ, start, end, people, "Team on-call")
    print(f"year ahead: 50 members, {len(oncall.overrides)} overrides, {len(shifts)} pieces, "
          f"{feed.count(b'BEGIN:VEVENT')} events, {len(feed) // 1024} KiB of iCalendar, "
          f"{len(problems)} problems")
    jobs: dict[str, Callable[[], object]] = {
        "shifts_between": lambda: shifts_between(oncall, TZ, start, end),
        "schedule_table": lambda: schedule_table(shifts, TZ, people),
        "to_ics": lambda: to_ics(oncall, TZ, start, end, people, "Team on-call"),
        "check_oncall": lambda: list(check_oncall(oncall, TZ)),
        "on_call x100": lambda: [on_call(oncall, TZ, start + timedelta(hours=87 * i)) for i in range(100)],
        "handoffs_between": lambda: handoffs_between(oncall, TZ, start, end),
    }
    total_best = total_median = 0.0
    for name, job in jobs.items():
        best, median = best_and_median(job)
        print(f"{name:18} best {best * 1000:8.2f} ms   median {median * 1000:8.2f} ms")
        if name in ("shifts_between", "schedule_table", "to_ics"):
            total_best, total_median = total_best + best, total_median + median
    print(f"{'total (3 views)':18} best {total_best * 1000:8.2f} ms   median {total_median * 1000:8.2f} ms")


if __name__ == "__main__":
    main()
