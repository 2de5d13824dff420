"""Issue #16, probes on GitLab as its CI runs them: the scheduled pipeline's `outage-bot tick`
against the fake GitLab (python-gitlab over loopback), the probe's target a real HTTP server
on 127.0.0.1. The issue it opens is found again, never twice; the status issue keeps the count."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml
from fake_gitlab import FakeGitLab
from test_gitlab_lost_events import CHANNELS, POLICY, Ci

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "slack"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fake_slack import FakeSlack
from loopback_target import Target

T0 = datetime(2026, 11, 5, 14, 0, tzinfo=timezone.utc)


class WatchCi(Ci):
    def __init__(self, fake: FakeGitLab, slack: FakeSlack, tmp: Path, policy: Path) -> None:
        super().__init__(fake, slack, tmp)
        self.policy = policy

    def environ(self, source: str, payload: str | None = None) -> dict[str, str]:
        return {**super().environ(source, payload), "OUTAGE_BOT_CONFIG": str(self.policy)}


def test_a_failing_probe_declares_once_on_gitlab_and_recovering_resolves(tmp_path: Path) -> None:
    with Target() as target, FakeGitLab(now=T0) as fake, FakeSlack() as slack:
        for name, cid in CHANNELS.items():
            slack.add_channel(name, id=cid, private=cid.startswith("G"))
        data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
        data["probes"] = {"api": {"url": f"{target.url}/healthz", "severity": "major", "kind": "outage"}}
        policy = tmp_path / "policy.yml"
        policy.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        ci = WatchCi(fake, slack, tmp_path / "ci", policy)
        target.answer(502, "Bad Gateway")
        for i in range(4):
            ci.tick(T0 + timedelta(minutes=10 * i))
        opened = [i for i in fake.issues.values() if "outage-bot:monitor" in i["labels"]]
        assert len(opened) == 1 and opened[0]["state"] == "opened"
        assert "HTTP 502" in opened[0]["description"] and "Bad Gateway" in opened[0]["description"]
        assert len(slack.roots(CHANNELS["outage-alerts"])) == 1
        target.answer(200, "ok")
        for i in range(4, 6):
            ci.tick(T0 + timedelta(minutes=10 * i))
        assert fake.issues[opened[0]["iid"]]["state"] == "closed"
        said = " ".join(m["text"] for m in slack.messages(CHANNELS["outage-alerts"]))
        assert "recovered at" in said
