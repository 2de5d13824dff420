"""Pay only for what you use: the extras, imports only on use, and the error for a missing extra.

Each check runs outage-bot in a fresh interpreter (what a CI job does) and reads what it
imported, or hides a client library from it with an import blocker put on PYTHONPATH as
`sitecustomize` (as if the extra were not installed): nothing inside a library is patched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot import __version__
from bot.extras import EXTRAS

ROOT = Path(__file__).parents[1]
POLICY = ROOT / "tests" / "fixtures" / "contract_policy.yml"  # Slack channels, an on-call rotation
SCRIPT = Path(sys.executable).parent / "outage-bot"  # the installed console script
sys.path.insert(0, str(ROOT / "tests" / "github"))

from fake_github import FakeGitHub  # tests/github is not a package
from github_helpers import webhook

# Each extra's top-level modules: what a run without that extra must not import.
CLIENTS = {"github": "github", "gitlab": "gitlab", "slack": "slack_sdk", "apprise": "apprise", "ical": "icalendar"}

# Writes the top-level names of every module the process imported to $MODULES_OUT at exit.
RECORDER = """
import atexit, json, os, sys
atexit.register(lambda: json.dump(sorted(sys.modules), open(os.environ["MODULES_OUT"], "w")))
sys.argv[0] = "outage-bot"
from bot.cli import main
main()
"""

# Makes `import NAME` fail for every NAME in $BLOCK_MODULES (and their submodules), as when the
# package is not installed.
BLOCKER = """
import os, sys

class _Blocker:
    blocked = set(os.environ.get("BLOCK_MODULES", "").split(","))

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _Blocker())
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no token, no CI variable from the machine running the tests."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT)}
    env.update(extra)
    return env


def imported(tmp_path: Path, args: list[str], **extra: str) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """Runs `outage-bot ARGS` in a new interpreter; the modules it imported and the process."""
    out = tmp_path / "modules.json"
    env = _env(tmp_path, MODULES_OUT=str(out), **extra)
    result = subprocess.run([sys.executable, "-c", RECORDER, *args], env=env, capture_output=True, text=True,
                            timeout=120, cwd=tmp_path, check=False)
    return set(json.loads(out.read_text())), result


def blocked_run(tmp_path: Path, modules: str, args: list[str], **extra: str) -> subprocess.CompletedProcess[str]:
    """Runs the installed `outage-bot ARGS` with `modules` impossible to import."""
    site = tmp_path / "blocker"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = _env(tmp_path, BLOCK_MODULES=modules, **extra)
    env["PYTHONPATH"] = f"{site}{os.pathsep}{ROOT}"
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          check=False)


def roots(modules: set[str]) -> set[str]:
    return {m.partition(".")[0] for m in modules}


# -- the extras in pyproject.toml ------------------------------------------------------------

def test_each_extra_installs_its_client_and_the_base_none() -> None:
    # the installed metadata, as pip reads it (hatchling writes `[all]` and `[test]` out in full)
    wanted: dict[str, set[str]] = {}
    for line in metadata.requires("outage-bot") or []:
        req = Requirement(line)
        extra = next((e for e in [*EXTRAS, "all", "test"] if req.marker and req.marker.evaluate({"extra": e})), "")
        wanted.setdefault(extra, set()).add(canonicalize_name(req.name))
    clients = {canonicalize_name(d) for dists in EXTRAS.values() for d in dists}
    for extra, dists in EXTRAS.items():
        assert wanted[extra] == {canonicalize_name(d) for d in dists}, extra
    assert wanted["all"] == clients
    assert clients <= wanted["test"]
    assert not wanted[""] & clients
    assert wanted[""] == {"click", "jinja2", "pyyaml", "pydantic", "tzdata"}
    assert metadata.version("outage-bot") == __version__


# -- imports only on use -----------------------------------------------------------------------

def test_help_builds_no_policy_model_and_imports_no_template_engine_or_client(tmp_path: Path) -> None:
    modules, result = imported(tmp_path, ["--help"])
    assert result.returncode == 0, result.stderr
    assert "Example: outage-bot demo" in result.stdout
    assert not roots(modules) & {"pydantic", "jinja2", "yaml", *CLIENTS.values()}
    assert "bot.policy" not in modules


def test_oncall_now_imports_no_icalendar_and_ics_does(tmp_path: Path) -> None:
    at = "2026-11-09T12:00-05:00"
    modules, result = imported(tmp_path, ["oncall", "now", "--config", str(POLICY), "--at", at, "--json"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["primary"]
    assert not roots(modules) & set(CLIENTS.values())
    modules, result = imported(tmp_path, ["oncall", "ics", "--config", str(POLICY), "--at", at])
    assert result.returncode == 0, result.stderr
    assert "icalendar" in roots(modules)  # the check above can see it


def test_a_github_handle_without_chat_imports_no_gitlab_slack_or_apprise(tmp_path: Path) -> None:
    with FakeGitHub() as fake:
        number = fake.add_issue("Installs fail", labels=["priority::highest"]).number
        event = tmp_path / "event.json"
        event.write_text(json.dumps(webhook(fake, "issues", "labeled", number, sender="taylor-gh", label="priority::highest")))
        env = fake.env(GITHUB_EVENT_NAME="issues", GITHUB_EVENT_PATH=str(event))
        modules, result = imported(tmp_path, ["handle", "--config", str(POLICY), "--now", fake.now.isoformat()], **env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert any("/issues" in line for line in fake.lines())  # it did its work on the fake
    assert "github" in roots(modules)
    assert not roots(modules) & {"gitlab", "slack_sdk", "apprise", "icalendar"}
    # the run says which channels it could not tell, and how to fix that
    assert "channel alerts is not told: set SLACK_BOT_TOKEN" in result.stderr


# -- a missing extra: one line naming it ------------------------------------------------------

LOCAL_TICK = ["tick", "--forge", "local", "--db", "forge.sqlite", "--config", str(POLICY)]


@pytest.mark.parametrize(
    ("blocked", "extra", "args", "env"),
    [
        ("gitlab", "gitlab", ["tick", "--config", str(POLICY)],
         {"GITLAB_CI": "true", "CI_API_V4_URL": "http://127.0.0.1:9/api/v4", "CI_PROJECT_ID": "1", "GITLAB_TOKEN": "x"}),
        ("github", "github", ["tick", "--config", str(POLICY)],
         {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r", "GITHUB_TOKEN": "x", "GITHUB_API_URL": "http://127.0.0.1:9"}),
        ("slack_sdk", "slack", LOCAL_TICK, {"SLACK_BOT_TOKEN": "xoxb-not-used"}),
        ("slack_sdk", "slack", LOCAL_TICK, {"SLACK_WEBHOOK_URL": "http://127.0.0.1:9/hook"}),
        ("icalendar", "ical", ["oncall", "ics", "--config", str(POLICY)], {}),
    ],
    ids=["gitlab", "github", "slack-token", "slack-webhook", "ical"],
)
def test_a_missing_extra_is_one_line_naming_it(tmp_path: Path, blocked: str, extra: str, args: list[str],
                                               env: dict[str, str]) -> None:
    result = blocked_run(tmp_path, blocked, args, **env)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("outage-bot: ") and lines[-1].endswith(f"pip install 'outage-bot[{extra}]'"), lines
    assert f"module {blocked!r}" in lines[-1]
    assert "Traceback" not in result.stderr


def test_an_apprise_channel_without_apprise_names_the_extra(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY.read_text(encoding="utf-8").replace(
        'alerts:        {slack: "#outage-alerts"}', 'alerts:        {apprise: "json://${HOOK_HOST}/alerts"}'))
    result = blocked_run(tmp_path, "apprise", ["tick", "--forge", "local", "--db", "forge.sqlite", "--config", str(policy)],
                         HOOK_HOST="127.0.0.1:9")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "outage-bot: channel 'alerts' (apprise:) needs the Python module 'apprise', which is not installed: "
        "pip install 'outage-bot[apprise]'")


def test_the_blocker_blocks_nothing_else(tmp_path: Path) -> None:
    # the same run with the module importable: the failures above come from the missing module
    result = blocked_run(tmp_path, "nothing-at-all", ["oncall", "ics", "--config", str(POLICY), "--at", "2026-11-09T12:00Z"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("BEGIN:VCALENDAR")


def test_the_base_install_runs_the_demo_and_validate(tmp_path: Path) -> None:
    # every client library and requests hidden: what `pip install outage-bot` alone has
    hidden = ",".join([*CLIENTS.values(), "requests", "urllib3"])
    demo = blocked_run(tmp_path, hidden, ["demo"])
    assert demo.returncode == 0, demo.stdout + demo.stderr
    valid = blocked_run(tmp_path, hidden, ["validate", "--config", str(POLICY)])
    assert valid.returncode == 0, valid.stdout + valid.stderr
