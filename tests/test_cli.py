"""The command as users run it: CliRunner on real files, and the installed console script."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.resources import default_policy_path


def test_demo_runs_as_the_installed_console_script() -> None:
    exe = shutil.which("outage-bot") or str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "outage-bot")
    done = subprocess.run([exe, "demo"], capture_output=True, text=True, timeout=120, cwd="/")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for expected in ("tagged", "opened outage issue #2", "pinned it", "alert -> alerts", "alert -> users",
                     "On-call handoff", "comment (escalation)", "comment (reminder)", "comment (ack)",
                     "unpinned it", "thread reply -> users", "outage issue pinned now: False"):
        assert expected in out, (expected, out)


def test_validate_reports_a_misspelled_key_with_file_line_column(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yml"
    bad.write_text(default_policy_path().read_text().replace("resolve_within: 24h", "resolve_withn: 24h"))
    result = CliRunner().invoke(cli, ["validate", "--config", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:" in result.output and "severities.critical.resolve_withn: unknown key" in result.output


def test_validate_default(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "--config", str(default_policy_path())])
    assert result.exit_code == 0 and "valid" in result.output


def test_oncall_now_json_changes_at_the_noon_handoff() -> None:
    config = str(Path(__file__).parent / "fixtures" / "contract_policy.yml")
    before = CliRunner().invoke(cli, ["oncall", "now", "--config", config, "--at", "2026-11-09T11:59-05:00", "--json"])
    after = CliRunner().invoke(cli, ["oncall", "now", "--config", config, "--at", "2026-11-09T12:00-05:00", "--json"])
    assert before.exit_code == 0 and after.exit_code == 0, before.output + after.output
    first, second = json.loads(before.output), json.loads(after.output)
    assert first["primary"] == "taylor" and second["primary"] == "will" and second["secondary"] == "aj"


def test_local_handle_and_tick_with_dry_run(tmp_path: Path) -> None:
    event = tmp_path / "open.json"
    event.write_text(json.dumps({"action": "open", "title": "API down", "labels": ["priority::highest"], "actor": "eng-a"}))
    db = str(tmp_path / "f.sqlite")
    planned = CliRunner().invoke(cli, ["plan", "--forge", "local", "--db", db, "--event", str(event), "--now", "2026-11-09T14:00Z"])
    assert planned.exit_code == 0, planned.output
    assert "would OpenOutageIssue" in planned.output and "key 1:g1:outage-issue" in planned.output
    # the plan wrote nothing, not even the issue its event opens: open it now, with no run
    from bot.adapters.local import LocalForge

    LocalForge(db).create_issue(title="API down", body="", labels=["priority::highest"])
    done = CliRunner().invoke(cli, ["tick", "--forge", "local", "--db", db, "--now", "2026-11-10T03:00Z"])
    assert done.exit_code == 0, done.output
    assert "declared" in done.output  # the labeled issue whose event was not handled is picked up by the tick


def test_missing_forge_is_a_clear_error() -> None:
    result = CliRunner().invoke(cli, ["tick"])
    assert result.exit_code == 1 and "--forge" in result.output


# -- the bundled default policy says so, in every command that runs the bot ---------------------------
NOTICE = ("outage-bot: no .outage-bot.yml: using the bundled default policy, whose people are placeholders"
          " (nobody is paged); copy workflows/default.yml to .outage-bot.yml and set your people")


def _bundled_default_runs(tmp_path: Path) -> dict[str, list[str]]:
    event = tmp_path / "open.json"
    event.write_text(json.dumps({"action": "open", "title": "API down", "labels": ["priority::highest"], "actor": "eng-a"}))
    local = ["--forge", "local", "--db", str(tmp_path / "f.sqlite"), "--now", "2026-11-09T14:00Z"]
    return {
        "validate": ["validate"],
        "oncall": ["oncall", "now", "--at", "2026-11-09T12:00-05:00"],
        "plan": ["plan", *local, "--event", str(event)],
        "handle": ["handle", *local, "--event", str(event)],
        "tick": ["tick", *local],
        "declare": ["declare", *local, "--severity", "critical", "--title", "Checkout down"],
    }


@pytest.mark.parametrize("command", ["validate", "oncall", "plan", "handle", "tick", "declare"])
def test_every_run_on_the_bundled_default_says_so_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    monkeypatch.chdir(tmp_path)  # no .outage-bot.yml here
    result = CliRunner().invoke(cli, _bundled_default_runs(tmp_path)[command])
    assert result.exit_code == 0, result.output
    assert result.stderr.count(NOTICE) == 1, result.stderr
    assert NOTICE not in result.stdout  # stdout stays machine-readable (oncall --json, plan)


def test_the_notice_names_no_one_when_a_policy_is_chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    own = tmp_path / "mine.yml"
    own.write_text(default_policy_path().read_text())
    runs = [
        (["validate", "--config", str(own)], {}),
        (["validate"], {"OUTAGE_BOT_CONFIG": str(own)}),
        # the bundled file chosen on purpose is a choice too
        (["validate", "--config", str(default_policy_path())], {}),
    ]
    for args, env in runs:
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 0 and "bundled default" not in result.output, (args, result.output)
    (tmp_path / ".outage-bot.yml").write_text(default_policy_path().read_text())
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 0 and "bundled default" not in result.output
    assert ".outage-bot.yml: valid" in result.output


def test_the_notice_looks_in_the_ci_checkout_not_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / ".outage-bot.yml").write_text(default_policy_path().read_text())
    monkeypatch.chdir(tmp_path)
    for variable in ("GITHUB_WORKSPACE", "CI_PROJECT_DIR"):
        result = CliRunner().invoke(cli, ["validate"], env={variable: str(checkout)})
        assert result.exit_code == 0 and "bundled default" not in result.output, result.output


def test_demo_uses_the_bundled_default_without_the_notice() -> None:
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert "bundled default" not in result.output


def test_usage_errors_exit_1_and_help_exits_0() -> None:
    assert CliRunner().invoke(cli, ["tick", "--now", "yesterday"]).exit_code == 1
    assert CliRunner().invoke(cli, ["--help"]).exit_code == 0
    assert CliRunner().invoke(cli, ["--version"]).exit_code == 0
    assert CliRunner().invoke(cli, ["tick", "--help"]).exit_code == 0
