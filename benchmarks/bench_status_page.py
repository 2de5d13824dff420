"""Build time and largest page of the status site (`outage-bot status-page`) for 10, 1,000 and
5,000 incidents spread over five years (tests/status_page_helpers.py makes them).

    python benchmarks/bench_status_page.py [--counts 10,1000,5000]

Only the pure build is timed (bot.status_page.build.build_site: pages, feed, JSON): reading the
forge costs one listing request per 100 issues plus one per incident, and is measured by the
adapters' own benchmarks. Target (issue 14, "Scale"): years of history build in seconds and
every page stays small.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from status_page_helpers import synthetic  # noqa: E402

from bot.config import load  # noqa: E402
from bot.resources import default_policy_path  # noqa: E402
from bot.status_page.build import build_site, environment  # noqa: E402

NOW = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="10,1000,5000")
    args = parser.parse_args()
    policy, _ = load(default_policy_path())
    print(f"{'incidents':>9} {'build s':>8} {'files':>6} {'largest page':>22} {'index.html':>11} {'site':>9}")
    for count in (int(c) for c in args.counts.split(",")):
        incidents = synthetic(count, NOW, policy)
        env = environment(None)
        started = time.perf_counter()
        files = build_site(incidents, policy, NOW, env)
        elapsed = time.perf_counter() - started
        sizes = {name: len(c.encode("utf-8") if isinstance(c, str) else c) for name, c in files.items()}
        largest = max(sizes, key=lambda n: sizes[n])
        print(f"{count:>9} {elapsed:>8.2f} {len(files):>6} {sizes[largest] / 1024:>8.1f} KiB {largest:>13} "
              f"{sizes['index.html'] / 1024:>7.1f} KiB {sum(sizes.values()) / 1024:>6.0f} KiB")


if __name__ == "__main__":
    main()
