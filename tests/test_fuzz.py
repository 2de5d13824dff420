"""Fuzz: policy files and local-forge events, through the command (issue #11, item 4).

The property is the same everywhere: exit 0, 1 or 2 and never a traceback. Policies start from
the bundled presets and the contract's example, mutated as data (a key dropped, a value of
another type or an awkward one) and as text (YAML syntax, anchors, tags, bytes spliced in), plus
random YAML and random bytes. A policy that still validates is then used: an incident is declared
on the local forge, ticked a day and a month later, and the on-call views printed. Events for
GitHub and GitLab are fuzzed next to their fakes: tests/github/test_github_fuzz.py and
tests/gitlab/test_gitlab_fuzz.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import event, given
from hypothesis import strategies as st

from bot.cli import cli
from bot.config import load
from bot.resources import data_dir
from tests.fuzzing import FAST, SLOW, awkward, json_values, mutated, no_traceback

FIXTURES = Path(__file__).parent / "fixtures"
BASES = [FIXTURES / "contract_policy.yml", FIXTURES / "gitlab" / "policy.yml",
         *sorted(data_dir("workflows").glob("*.yml"))]
BASE_TEXTS = [path.read_text(encoding="utf-8") for path in BASES]
BASE_DATA = [yaml.safe_load(text) for text in BASE_TEXTS]
NOW = "2026-11-09T14:00Z"

# Values a policy field may plausibly be given by mistake, beyond the generic awkward ones.
policy_values = awkward | st.sampled_from([
    "99999999999w", "500000w", "520w", "0s", "1s", "1h30", "9999-12-31", "0001-01-01", "2026-02-30",
    "monday 24:00", "funday 12:00", "Mars/Olympus", "Etc/GMT+14", "oncall.primary", "oncall.tertiary",
    ["oncall.primary", "oncall.secondary"], {"pin": "yes"}, {"after": "1h", "tag": ["nobody"]},
])
plausible = st.sampled_from([
    "99999999999w", "500000w", "521w", "520w", "1s", "59m", "9999-12-31", "2999-12-31", "1970-01-01", "2026-03-08",
    "2026-11-01", "sunday 02:30", "sunday 23:59", "monday 00:00", "Etc/GMT+14", "Etc/GMT-14", "Pacific/Kiritimati",
    "America/St_Johns", "Australia/Lord_Howe", "oncall.primary", "oncall.secondary", True, False, 1, 0, [], {},
    "priority::highest", "x" * 300, "{title}{title}{title}", "{nope}", "Outage: {title!r}", "🔥", "#chan", "U0",
    "apprise://${NOPE}", "https://status.example.com", "confidential",
])
YAML_BITS = [
    "&a ", "*a", "&a [*a]", "!!int ", "!!timestamp ", "!!binary ", "!!python/object:os.system ", "!x ", "[", "]",
    "{", "}", ": ", "- ", "\t", "\n", "? ", "<<: *a\n", "---\n", "...\n", "'", '"', "#", "%YAML 1.1\n", "\x00",
    "\x85", "\ufeff", "2026-13-45", "99999999999w", "monday 25:00", "[" * 200, "9" * 5000,
]


@st.composite
def policy_files(draw: st.DrawFn) -> bytes:
    how = draw(st.sampled_from(["data", "data", "value", "value", "text", "text", "random"]))
    if how == "data":
        document = draw(mutated(draw(st.sampled_from(BASE_DATA)), values=policy_values))
        return yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode()
    if how == "value":  # one value replaced by one of its own kind: often still a valid policy
        document = draw(mutated(draw(st.sampled_from(BASE_DATA)), max_changes=2, values=plausible, hows=("awkward",),
                                    leaves=True))
        return yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode()
    if how == "text":
        text = draw(st.sampled_from(BASE_TEXTS))
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(text)))
            cut = draw(st.integers(0, 30))
            text = text[:at] + draw(st.sampled_from(YAML_BITS) | st.text(max_size=12)) + text[at + cut:]
        raw = text.encode()
        if draw(st.integers(0, 9)) == 0:  # a byte that is not UTF-8
            at = draw(st.integers(0, len(raw)))
            raw = raw[:at] + draw(st.sampled_from([b"\xff", b"\xe9", b"\xc3", b"\x80"])) + raw[at:]
        return raw
    return draw(st.binary(max_size=200) | st.text(max_size=200).map(str.encode)
                | json_values.map(lambda v: yaml.safe_dump(v, allow_unicode=True).encode()))


def run(args: list[str]) -> Result:
    return CliRunner().invoke(cli, args, prog_name="outage-bot")


def check_policy(tmp_path: Path, content: bytes) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_bytes(content)
    validated = run(["validate", "--config", str(policy)])
    no_traceback(validated, frozenset({0, 1}))
    event(f"validate exit {validated.exit_code}")
    if validated.exit_code != 0:
        return
    # Valid, however odd: the policy must also run.
    loaded, _ = load(policy)
    label = next(iter(loaded.severities.values())).labels[0]
    db = tmp_path / "f.sqlite"
    db.unlink(missing_ok=True)
    opened = tmp_path / "open.json"
    opened.write_text(json.dumps({"action": "open", "title": "Checkout down", "labels": [label], "actor": "eng-a"}))
    local = ["--config", str(policy), "--forge", "local", "--db", str(db)]
    no_traceback(run(["handle", *local, "--event", str(opened), "--now", NOW]))
    no_traceback(run(["tick", *local, "--now", "2026-11-10T14:00Z"]))
    no_traceback(run(["tick", *local, "--now", "2026-12-10T14:00Z"]))
    for view in (["now", "--json"], ["schedule"], ["ics"]):
        no_traceback(run(["oncall", *view, "--config", str(policy), "--at", NOW]), frozenset({0, 1}))


@FAST
@given(content=policy_files())
def test_policy_fuzz(tmp_path: Path, content: bytes) -> None:
    check_policy(tmp_path, content)


@pytest.mark.slow
@SLOW
@given(content=policy_files())
def test_policy_fuzz_long(tmp_path: Path, content: bytes) -> None:
    check_policy(tmp_path, content)


# -- local-forge events ------------------------------------------------------------------------------
LOCAL_EVENTS: list[dict[str, Any]] = [
    {"action": "open", "title": "API down", "body": "Every call fails", "labels": ["priority::highest", "outage"], "actor": "eng-a"},
    {"action": "label", "issue": 1, "label": "priority::highest", "actor": "eng-a"},
    {"action": "unlabel", "issue": 1, "label": "priority::highest", "actor": "eng-a"},
    {"action": "comment", "issue": 1, "body": "/ack", "actor": "taylor-gh"},
    {"action": "comment", "issue": 1, "body": "/resolve restarted it", "actor": "taylor-gh"},
    {"action": "react", "issue": 1, "emoji": "eyes", "actor": "willds"},
    {"action": "close", "issue": 1, "actor": "reporter"},
    {"action": "reopen", "issue": 1, "actor": "reporter"},
]


@st.composite
def local_events(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=100) | json_values.map(lambda v: json.dumps(v).encode()))
    event = draw(st.sampled_from(LOCAL_EVENTS))
    if draw(st.booleans()):
        event = draw(mutated(event, max_changes=2))
    return json.dumps(event).encode()


def check_local_event(tmp_path: Path, content: bytes) -> None:
    db = tmp_path / "f.sqlite"
    local = ["--config", str(FIXTURES / "contract_policy.yml"), "--forge", "local", "--db", str(db), "--now", NOW]
    if not db.exists():  # one issue to act on, shared by the examples
        (tmp_path / "first.json").write_text(json.dumps(LOCAL_EVENTS[0]))
        assert run(["handle", *local, "--event", str(tmp_path / "first.json")]).exit_code == 0
    event = tmp_path / "event.json"
    event.write_bytes(content)
    no_traceback(run(["handle", *local, "--event", str(event)]), frozenset({0, 1}))


@FAST
@given(content=local_events())
def test_local_event_fuzz(tmp_path: Path, content: bytes) -> None:
    check_local_event(tmp_path, content)


@pytest.mark.slow
@SLOW
@given(content=local_events())
def test_local_event_fuzz_long(tmp_path: Path, content: bytes) -> None:
    check_local_event(tmp_path, content)
