"""The GitLab CI wiring users copy: `.gitlab-ci.yml` and the include `ci/outage-bot.gitlab-ci.yml`.

Both are checked against GitLab CI's published schema with check-jsonschema's vendored copy
(`--builtin-schema vendor.gitlab-ci`: no network), run as a subprocess from this venv.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FILES = [ROOT / ".gitlab-ci.yml", ROOT / "ci" / "outage-bot.gitlab-ci.yml"]
JOBS = (".outage-bot", "outage-bot:handle", "outage-bot:tick", "pages", "outage-bot:report")
DEFAULT_BRANCH = "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"


def check(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci", *map(str, paths)],
        capture_output=True, text=True, timeout=120, check=False,
    )


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_both_files_match_gitlab_ci_schema() -> None:
    result = check(*FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_is_not_vacuous(tmp_path: Path) -> None:
    broken = load(FILES[1])
    broken["outage-bot:tick"]["rules"] = [{"iff": "$CI_PIPELINE_SOURCE"}]  # a typo GitLab would refuse
    path = tmp_path / "broken.gitlab-ci.yml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = check(path)
    assert result.returncode == 1 and "iff" in result.stdout


def test_the_copy_and_the_include_define_the_same_jobs() -> None:
    copy, include = (load(path) for path in FILES)
    for job in (*JOBS, "variables"):
        assert copy[job] == include[job], job


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_jobs_as_the_docs_describe(path: Path) -> None:
    data = load(path)
    base = data[".outage-bot"]
    assert base["interruptible"] is False  # a started job is never cancelled for a newer pipeline
    assert base["timeout"] == "10 minutes"
    assert base["retry"] == {"max": 1, "when": ["runner_system_failure", "stuck_or_timeout_failure"]}
    handle, tick = data["outage-bot:handle"], data["outage-bot:tick"]
    assert handle["extends"] == tick["extends"] == ".outage-bot"
    assert handle["script"] == ["outage-bot handle"] and tick["script"] == ["outage-bot tick"]
    [handle_rule] = [r["if"] for r in handle["rules"]]
    # the weekly report's schedule runs the report, not a tick
    assert tick["rules"][0] == {"if": '$OUTAGE_BOT_REPORT == "true"', "when": "never"}
    [tick_rule] = [r["if"] for r in tick["rules"][1:]]
    assert '$CI_PIPELINE_SOURCE == "trigger"' in handle_rule
    assert "schedule|web|api" in tick_rule
    for rule in (handle_rule, tick_rule):
        assert "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in rule
    # Deliveries never wait in a resource group (a pending job is auto-cancelled with its event);
    # overlapping runs of one incident are serialised by outage-bot's own lock. Ticks queue.
    assert "resource_group" not in handle and "resource_group" not in base
    assert tick["resource_group"] == "outage-bot-tick"
    assert "workflow" not in data  # an include must not change the rest of the user's pipeline


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_install_is_a_pinned_git_url_and_the_virtualenv_is_cached(path: Path) -> None:
    data = load(path)
    variables, base = data["variables"], data[".outage-bot"]
    # no package index: a git URL and a commit, placeholders the job refuses until they are set
    assert variables["OUTAGE_BOT_REPOSITORY"] == "https://github.com/OWNER/outage-bot.git"
    assert variables["OUTAGE_BOT_VERSION"] == "COMMIT_SHA"
    assert variables["OUTAGE_BOT_EXTRAS"] == "gitlab,slack"
    [script] = base["before_script"]
    assert '"outage-bot[$OUTAGE_BOT_EXTRAS] @ git+$OUTAGE_BOT_REPOSITORY@$OUTAGE_BOT_VERSION"' in script
    assert "pip install" in script and "outage-bot==" not in script and "PIP_CACHE_DIR" not in str(base)
    # the virtualenv, cached per version and Python; pip runs only when it is missing or stale
    assert base["cache"] == {"key": "outage-bot-${OUTAGE_BOT_VERSION}-py${OUTAGE_BOT_PYTHON}", "paths": [".outage-bot-venv"]}
    assert variables["OUTAGE_BOT_IMAGE"] == "python:${OUTAGE_BOT_PYTHON}-slim" and base["image"] == "$OUTAGE_BOT_IMAGE"
    stale = script.index('if [ "$(cat "$venv/installed" 2>/dev/null)" != "$wanted" ]; then')
    assert stale < script.index("pip install") < script.index("\nfi\n")
    assert script.rstrip().endswith('export PATH="$PWD/$venv/bin:$PATH"')


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_pages_job_is_off_by_default_and_follows_handle_or_tick(path: Path) -> None:
    data = load(path)
    pages = data["pages"]  # GitLab Pages publishes the artifacts' public/ of a job named `pages`
    assert data["variables"]["OUTAGE_BOT_STATUS_PAGE"] == "false"  # off unless the user says "true"
    assert pages["rules"] == [
        {"if": '$OUTAGE_BOT_STATUS_PAGE != "true" || $OUTAGE_BOT_REPORT == "true"', "when": "never"},
        {"if": f"$CI_PIPELINE_SOURCE =~ /^(trigger|schedule|web|api)$/ && {DEFAULT_BRANCH}"},
    ]
    assert pages["needs"] == [{"job": "outage-bot:handle", "optional": True}, {"job": "outage-bot:tick", "optional": True}]
    assert pages["script"] == ["outage-bot status-page --out public"]
    assert pages["artifacts"]["paths"] == ["public"]
    assert pages["extends"] == ".outage-bot" and pages["resource_group"] == "outage-bot-pages"
    assert pages["variables"] == {"OUTAGE_BOT_EXTRAS": "gitlab,status-page"}
    # a virtualenv of its own: with the tick's key, each would reinstall the other's extras
    assert pages["cache"] == {"key": "outage-bot-pages-${OUTAGE_BOT_VERSION}-py${OUTAGE_BOT_PYTHON}",
                              "paths": [".outage-bot-venv"]}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_report_job_runs_only_in_its_own_schedule(path: Path) -> None:
    report = load(path)["outage-bot:report"]
    assert report["rules"] == [
        {"if": f'$CI_PIPELINE_SOURCE == "schedule" && $OUTAGE_BOT_REPORT == "true" && {DEFAULT_BRANCH}'}]
    assert report["script"] == ["outage-bot report --since 12w --out outage-bot-report > outage-bot-report.md"]
    assert report["artifacts"] == {"paths": ["outage-bot-report.md", "outage-bot-report/"], "expire_in": "90 days"}
    assert report["variables"] == {"OUTAGE_BOT_EXTRAS": "gitlab,report"}
    assert report["cache"]["key"] == "outage-bot-report-${OUTAGE_BOT_VERSION}-py${OUTAGE_BOT_PYTHON}"
    assert "resource_group" not in report


def test_docs_show_the_include_line() -> None:
    docs = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "ci/outage-bot.gitlab-ci.yml" in docs and "include:" in docs
    header = FILES[1].read_text(encoding="utf-8")
    assert "include:" in header and "README" in header
