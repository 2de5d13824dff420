"""What ships must be safe to copy: the GitHub wiring passes a security linter, and the bundled
policies can page nobody.

- zizmor (offline, default persona, no config file) finds nothing of medium severity or higher
  in the workflow, the composite action and Dependabot's config. The one accepted finding,
  `issue_comment` as a trigger (issue #11), is ignored in place with its reason; with ignore
  comments disregarded it is the only one. Skipped when zizmor is not installed; `pip install
  '.[test]'` installs it, and .ci/run runs the same check.
- What needs no linter: every action pinned to a release's commit with its version, no `${{ }}`
  inside a `run:` script, no permission without its reason.
- The bundled default and presets name people without handles, so a repository running on
  them @mentions nobody (on github.com a made-up login can be a stranger's account).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.config import load
from bot.resources import default_policy_path

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTION = ROOT / "action.yml"
WIRING = [*WORKFLOWS, ACTION]
ZIZMOR_INPUTS = [".github", "action.yml"]  # as .ci/run passes them
BUNDLED_POLICIES = sorted((ROOT / "workflows").glob("*.yml"))

MEDIUM_OR_HIGHER = ("Medium", "High")
PIN = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})$")
VERSION_COMMENT = re.compile(r"^\s+# (?P<version>v\d+\.\d+\.\d+)$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def steps_of(path: Path) -> list[dict[str, Any]]:
    data = load_yaml(path)
    if path == ACTION:
        return list(data["runs"]["steps"])
    return [step for job in data["jobs"].values() for step in job.get("steps", [])]


# -- zizmor -----------------------------------------------------------------------------------

def zizmor_binary() -> str | None:
    beside = Path(sys.executable).parent / "zizmor"
    return str(beside) if beside.exists() else shutil.which("zizmor")


ZIZMOR = zizmor_binary()
needs_zizmor = pytest.mark.skipif(ZIZMOR is None, reason="zizmor is not installed (pip install '.[test]')")


def zizmor(*args: str, cwd: Path = ROOT) -> tuple[int, list[dict[str, Any]]]:
    """zizmor's medium-or-higher findings on the inputs, offline, without any config file."""
    assert ZIZMOR is not None
    # No token: offline means offline, and no credential is ever handed to a test's subprocess.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GH_", "GITHUB_", "ZIZMOR_"))}
    done = subprocess.run(
        [ZIZMOR, "--offline", "--no-config", "--min-severity", "medium", "--format", "json", "--no-progress", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.stdout.strip(), done.stderr  # a crash or a usage error prints no JSON
    return done.returncode, json.loads(done.stdout)


def where(finding: dict[str, Any]) -> tuple[str, str, int]:
    """(audit, file, 1-based line) of a finding's primary location."""
    [primary] = [loc for loc in finding["locations"] if loc["symbolic"]["kind"] == "Primary"]
    path = primary["symbolic"]["key"]["Local"]["verbatim_path"]
    return finding["ident"], Path(path).name, primary["concrete"]["location"]["start_point"]["row"] + 1


@needs_zizmor
def test_zizmor_finds_nothing_of_medium_severity_or_higher() -> None:
    code, findings = zizmor(*ZIZMOR_INPUTS)
    assert [where(f) for f in findings] == [] and code == 0


@needs_zizmor
def test_the_one_finding_ignored_in_place_is_issue_comment_with_its_reason() -> None:
    _, findings = zizmor("--no-ignores", *ZIZMOR_INPUTS)
    assert all(f["determinations"]["severity"] in MEDIUM_OR_HIGHER for f in findings)
    workflow = (ROOT / ".github" / "workflows" / "outage-bot.yml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(workflow, 1) if text.strip().startswith("issue_comment:"))
    assert [where(f) for f in findings] == [("dangerous-triggers", "outage-bot.yml", line)]
    assert "# zizmor: ignore[dangerous-triggers]" in workflow[line - 1]
    reason = "\n".join(workflow[line - 8:line - 1])
    assert "zizmor" in reason and "pull request" in reason  # why it is safe here, just above
    # and no other finding is hidden anywhere
    for path in [*WIRING, ROOT / ".github" / "dependabot.yml"]:
        ignores = re.findall(r"zizmor: ignore\[[^\]]*\]", path.read_text(encoding="utf-8"))
        assert ignores == (["zizmor: ignore[dangerous-triggers]"] if path.name == "outage-bot.yml" else []), path


@needs_zizmor
def test_zizmor_would_catch_a_regression(tmp_path: Path) -> None:
    text = (ROOT / ".github" / "workflows" / "outage-bot.yml").read_text(encoding="utf-8")
    text = re.sub(r"actions/checkout@[0-9a-f]{40}", "actions/checkout@v6", text)
    step = "      - name: outage-bot\n"
    assert step in text
    text = text.replace(step, '      - run: echo "${{ github.event.issue.title }}"\n' + step)
    broken = tmp_path / "outage-bot.yml"
    broken.write_text(text, encoding="utf-8")
    code, findings = zizmor(str(broken), cwd=tmp_path)
    assert {f["ident"] for f in findings} >= {"unpinned-uses", "template-injection"} and code != 0


# -- what needs no linter -----------------------------------------------------------------------

@pytest.mark.parametrize("path", WIRING, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path) -> None:
    lines = [m for m in map(USES_LINE.match, path.read_text(encoding="utf-8").splitlines()) if m]
    in_yaml = [step["uses"] for step in steps_of(path) if "uses" in step]
    assert [m["ref"] for m in lines] == in_yaml and in_yaml  # every `uses:` line is a step's
    for m in lines:
        assert PIN.match(m["ref"]), f"{m['ref']}: pin it to a full commit SHA"
        assert VERSION_COMMENT.match(m["rest"]), f"{m['ref']}: name its version in a trailing comment (# vX.Y.Z)"


def test_an_action_is_pinned_to_the_same_commit_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for path in WIRING:
        for line in path.read_text(encoding="utf-8").splitlines():
            m = USES_LINE.match(line)
            if m and (pin := PIN.match(m["ref"])):
                pins.setdefault(pin["action"], set()).add(line.split("@", 1)[1].strip())
    assert pins and all(len(refs) == 1 for refs in pins.values()), pins


@pytest.mark.parametrize("path", WIRING, ids=lambda p: p.name)
def test_no_expression_is_expanded_inside_a_run_script(path: Path) -> None:
    # A `${{ }}` in `run:` is pasted into the script before the shell parses it: values go
    # through `env:` and are read as "$VARIABLES".
    # (The workflow runs no script of its own: it uses the composite action, whose scripts these are.)
    runs = [step["run"] for step in steps_of(path) if "run" in step]
    assert (runs or path != ACTION) and not [run for run in runs if "${{" in run]


def test_the_workflow_grants_nothing_by_default_and_each_permission_says_why() -> None:
    for path in WORKFLOWS:
        data = load_yaml(path)
        assert data["permissions"] == {}, path.name
        text = path.read_text(encoding="utf-8").splitlines()
        for name, job in data["jobs"].items():
            assert job.get("permissions"), f"{path.name}: job {name} must say what it needs"
            for scope, level in job["permissions"].items():
                lines = [t for t in text if re.match(rf"\s+{re.escape(scope)}: {level}\b", t)]
                assert lines, f"{path.name}: {scope}: {level}"
                for line in lines:
                    assert re.search(r"#\s*\w", line), f"{path.name}: {scope}: {level} needs a comment saying why"


def test_write_access_beyond_issues_only_where_the_user_opted_in() -> None:
    # Pages' `pages: write` and `id-token: write` (an OIDC token) only on the status page's job,
    # which runs only when the repository variable says so; the report only reads.
    for path in WORKFLOWS:
        for name, job in load_yaml(path)["jobs"].items():
            extra = {scope for scope, level in job["permissions"].items() if level == "write"} - {"issues"}
            if extra:
                assert path.name in ("outage-bot.yml", "outage-bot-tick.yml"), path.name  # after events, after ticks
                assert (name, extra) == ("status-page", {"pages", "id-token"})
                assert job["if"] == "vars.OUTAGE_BOT_STATUS_PAGE == 'true'"


# -- the bundled policies page nobody -----------------------------------------------------------

@pytest.mark.parametrize("path", BUNDLED_POLICIES, ids=lambda p: p.name)
def test_the_bundled_policies_name_people_without_any_handle(path: Path) -> None:
    # A person without a handle is written as **name**, never as an @mention: a repository
    # that runs on the default (or copies a preset unchanged) cannot page a stranger.
    policy, _ = load(path)
    assert policy.people
    for pid, person in policy.people.items():
        assert (person.github, person.gitlab, person.slack) == (None, None, None), pid
        assert person.name, pid


T0 = datetime(2026, 11, 9, 14, 0, tzinfo=timezone.utc)  # Monday 09:00 in New York
MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9]")


def test_an_incident_under_the_bundled_default_mentions_nobody_on_github(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "github"))
    from fake_github import FakeGitHub  # tests/github is not a package, on purpose
    from github_helpers import webhook

    def run(github: FakeGitHub, args: list[str], at: datetime, **env: str) -> Result:
        github.now = at
        result = CliRunner().invoke(
            cli, [*args, "--config", str(default_policy_path()), "--now", at.isoformat()], env=github.env(**env))
        assert result.exit_code == 0, result.output
        return result

    with FakeGitHub() as github:
        issue = github.add_issue("Checkout is down", "Every order fails.", author="reporter", at=T0 - timedelta(minutes=5))
        github.label(issue.number, "priority::highest", actor="reporter", at=T0)
        event = tmp_path / "event.json"
        github.now = T0 + timedelta(seconds=20)
        event.write_text(json.dumps(webhook(github, "issues", "labeled", issue.number, sender="reporter",
                                            label="priority::highest")), encoding="utf-8")
        run(github, ["handle"], T0 + timedelta(seconds=20), GITHUB_EVENT_NAME="issues", GITHUB_EVENT_PATH=str(event))
        run(github, ["tick"], T0 + timedelta(hours=12, minutes=5), GITHUB_EVENT_NAME="schedule")  # escalation, reminder

        written = [c["body"] for n in github.issues for c in github.comments_on(n) if c["user"] == github.token_user]
        written += [f"{i.title}\n{i.body or ''}" for i in github.issues.values() if i.author == github.token_user]

    tag = next(text for text in written if "you are tagged" in text)
    assert "**Release lead**" in tag and "**Platform lead**" in tag  # named, in bold
    assert any("Escalation" in text for text in written)
    for text in written:
        text = re.sub(r"<!-- outage-bot:[^>]*-->", "", text)
        assert not MENTION.search(text), text[:500]
