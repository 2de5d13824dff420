"""The chat texts keep their lines: with trim_blocks, a line that ends in `{% endif %}` loses its
line break, and the next line ran on ("Tagged: Engineer A.Broad user impact", "Expected fix: by
...Upstream status: ..."). Each case renders a bundled chat template and checks that every line
it should start does start one."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from bot.config import load
from bot.resources import default_policy_path

DEADLINE = datetime(2026, 11, 10, 14, 0, tzinfo=timezone.utc)


def incident(status: str, **more: Any) -> dict[str, Any]:
    return {"status": status, "severity": "critical", "title": "Checkout is down", "resolved_by": "eng-a",
            "acknowledged_by": "eng-b", "resolution": "", "severity_description": "Broad user impact",
            "runbook": "https://runbooks.example/checkout", "deadline": DEADLINE, "kind": "", "kind_description": "", **more}


CASES = [
    ("chat/alert.txt.j2", {"incident": incident("active"), "people": [{"name": "Engineer A"}]},
     ["Not acknowledged yet. Tagged: Engineer A.", "Broad user impact", "Runbook: "]),
    ("chat/alert.txt.j2", {"incident": incident("acknowledged")}, ["Acknowledged by eng-b", "Broad user impact"]),
    ("chat/alert.txt.j2", {"incident": incident("active", kind="regression", kind_description="Revert to the last good version"),
                           "regression": {"suspect": {"tag": "v1.3.0", "at": DEADLINE}, "good": {"tag": "v1.2.9", "at": DEADLINE}}},
     ["Regression: Revert to the last good version", "Last release before it started: v1.3.0", "Runbook: "]),
    ("chat/alert.txt.j2", {"incident": incident("resolved", resolution="rolled back 1.2.3")},
     ["Resolved by eng-a: rolled back 1.2.3", "Broad user impact"]),
    ("chat/alert.txt.j2", {"incident": incident("false_positive", resolution="a bad probe")},
     ["False positive (eng-a): a bad probe", "Broad user impact"]),
    ("chat/users_alert.txt.j2", {"incident": incident("active"), "status_page": "https://status.example",
                                 "form": {"workaround": "pin 1.2.2", "upstream": "https://status.upstream.example"}},
     ["Workaround: pin 1.2.2", "Expected fix: by ", "Upstream status: https://status.upstream.example",
      "Status page: https://status.example"]),
    ("chat/users_alert.txt.j2", {"incident": incident("resolved", resolution="rolled back"), "form": {},
                                 "status_page": "https://status.example"},
     ["This is fixed. rolled back", "Status page: https://status.example"]),
]


@pytest.mark.parametrize(("template", "context", "starts"), CASES, ids=[f"{c[0]}-{c[1]['incident']['status']}" for c in CASES])
def test_each_line_starts_a_line(template: str, context: dict[str, Any], starts: list[str]) -> None:
    _, renderer = load(default_policy_path())
    form = {"broken": "", "affected": "", "workaround": "", "expected_fix": "", "upstream": "", **context.get("form", {})}
    context = {"oncall": None, "pin": None, "people": [], "status_page": "", **context, "form": form}
    lines = renderer.render(template, context).splitlines()
    for start in starts:
        assert any(line.startswith(start) for line in lines), f"{start!r} does not start a line in {lines}"
