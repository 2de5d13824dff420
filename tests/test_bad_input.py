"""Every bad input is one clean line and exit 1, never a traceback (issue #11, item 4).

Each case goes through the command as a user's CI runs it: click's CliRunner on real files, and
a few through the installed console script. The forge-specific payload cases are in
tests/github/test_github_events.py and tests/gitlab/test_gitlab_events.py (they need the fakes).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"
POLICY = FIXTURES / "contract_policy.yml"
NOW = "2026-11-09T14:00Z"


def run(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, args, env=env, prog_name="outage-bot")


def clean(result: Result, code: int = 1) -> str:
    """The run ended with `code` and explained itself without a Python stack; its stderr."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.stderr


def one_line(result: Result) -> str:
    err = clean(result)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


# -- the policy ----------------------------------------------------------------------------------
def test_a_policy_that_is_not_utf8_is_located(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_bytes(b"timezone: UTC\npeople:\n  caf\xe9: {github: cafe}\n")
    line = one_line(run(["validate", "--config", str(policy)]))
    assert line == f"{policy}:3:6: the policy is not UTF-8 text (byte 0xe9); save it as UTF-8"


def test_a_policy_that_is_not_utf8_stops_handle_before_any_work(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_bytes(b"\xff\xfetimezone: UTC\n")  # UTF-16's byte-order mark
    event = tmp_path / "open.json"
    event.write_text(json.dumps({"action": "open", "title": "x", "labels": ["priority::highest"]}))
    line = one_line(run(["handle", "--forge", "local", "--db", str(tmp_path / "f.sqlite"), "--config", str(policy),
                         "--event", str(event), "--now", NOW]))
    assert line == f"{policy}:1:1: the policy is not UTF-8 text (byte 0xff); save it as UTF-8"


def test_a_utf8_byte_order_mark_is_fine(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_bytes(b"\xef\xbb\xbf" + POLICY.read_bytes())
    assert clean(run(["validate", "--config", str(policy)]), 0) == ""


@pytest.mark.parametrize(("text", "expected"), [
    ("a: &x [*x]\n", "1:8: a[0]: this alias refers to a value that contains it (a recursive anchor)"),
    ("a: &x {b: *x}\n", "1:11: a.b: this alias refers to a value that contains it (a recursive anchor)"),
    ("people: &p\n  taylor: {github: t}\n  again: *p\n", "3:10: people.again: this alias refers to a value that contains it"),
    ("severities:\n  critical: &c {labels: [P0], next: [*c]}\n", "2:38: severities.critical.next[0]: this alias refers"),
])
def test_a_self_referencing_anchor_is_located(tmp_path: Path, text: str, expected: str) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(text)
    result = run(["validate", "--config", str(policy)])
    err = clean(result)
    assert f"{policy}:{expected}" in err


def test_an_alias_bomb_is_refused(tmp_path: Path) -> None:
    # "billion laughs": nine levels of nine aliases would be 387 million values
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(8):
        this, prev = chr(ord("b") + i), chr(ord("a") + i)
        lines.append(f"{this}: &{this} [" + ", ".join([f"*{prev}"] * 9) + "]")
    policy = tmp_path / "policy.yml"
    policy.write_text("\n".join(lines) + "\n")
    line = one_line(run(["validate", "--config", str(policy)]))
    assert line.startswith(f"{policy}:") and "expands to more than 100000 values" in line


@pytest.mark.parametrize(("text", "expected"), [
    ("timezone: !!int abc\n", "1:11: timezone: cannot read 'abc' as int"),
    ("timezone: !!timestamp soon\n", "1:11: timezone: cannot read 'soon' as timestamp"),
    ("timezone: !!bool maybe\n", "1:11: timezone: cannot read 'maybe' as bool"),
    ("timezone: 2026-13-45\n", "1:11: timezone: cannot read '2026-13-45' as timestamp"),
    ("timezone: !python/name:os.system x\n", "1:11: timezone: cannot read this value"),
    ("timezone: " + "9" * 5000 + "\n", "1:11: timezone: cannot read '9999999999"),
    ("? [a, b]\n: 1\n", "1:3: (top level): a key must be a plain name"),
    ("timezone: \x07\n", "1:11: not valid YAML: character U+0007 is not allowed"),
    ("[" * 5000 + "\n", "1:1: not valid YAML: nested more than 40 levels deep"),
    ("a:\n" + "".join(" " * i + "- \n" for i in range(1, 60)), "nested more than 40 levels deep"),
])
def test_yaml_values_that_cannot_be_read_are_located(tmp_path: Path, text: str, expected: str) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(text)
    err = clean(run(["validate", "--config", str(policy)]))
    assert expected in err, err


def test_a_policy_folder_of_templates_that_are_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "tag.md.j2").write_bytes(b"Hello\n\x80\n")
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY.read_text() + "\ntemplates: templates\n")
    line = one_line(run(["validate", "--config", str(policy)]))
    assert line == f"{tmp_path / 'templates' / 'tag.md.j2'}:2:1: the template is not UTF-8 text (byte 0x80); save it as UTF-8"


# -- the local forge's events ----------------------------------------------------------------------
def local(tmp_path: Path, event: bytes | dict[str, object], *extra: str) -> Result:
    path = tmp_path / "event.json"
    path.write_bytes(event if isinstance(event, bytes) else json.dumps(event).encode())
    return run(["handle", "--forge", "local", "--db", str(tmp_path / "f.sqlite"), "--config", str(POLICY),
                "--event", str(path), "--now", NOW, *extra])


@pytest.mark.parametrize(("event", "expected"), [
    ({"action": "label", "issue": "abc", "label": "P0"}, "field `issue` is 'abc' (expected: an issue number, like 1)"),
    ({"action": "label", "issue": [1], "label": "P0"}, "field `issue` is [1] (expected: an issue number, like 1)"),
    ({"action": "label", "issue": True, "label": "P0"}, "field `issue` is true (expected: an issue number, like 1)"),
    ({"action": "label", "issue": 2**63, "label": "P0"}, "field `issue` is 9223372036854775808 (expected: an issue number"),
    ({"action": "label", "issue": 7, "label": "P0"}, "there is no issue #7 in "),
    ({"action": "close", "issue": 99}, "there is no issue #99 in "),
    ({"action": "label", "label": "P0"}, "field `issue` is missing"),
    ({"action": "launch"}, "field `action` is 'launch' (expected: one of open, label"),
    ({"issue": 1}, "field `action` is null"),
    ({"action": "open", "title": ["a list"]}, "field `title` is [\"a list\"] (expected: a text)"),
    ({"action": "open", "labels": "P0"}, "field `labels` is 'P0' (expected: a list of label names)"),
    ({"action": "open", "actor": 12}, "field `actor` is 12 (expected: a text)"),
])
def test_a_bad_local_event_names_the_field(tmp_path: Path, event: dict[str, object], expected: str) -> None:
    line = one_line(local(tmp_path, event))
    assert line.startswith(f"outage-bot: {tmp_path / 'event.json'}: "), line
    assert expected in line


def test_a_local_event_for_an_issue_that_exists_still_works(tmp_path: Path) -> None:
    assert clean(local(tmp_path, {"action": "open", "title": "API down", "actor": "eng-a"}), 0) == ""
    result = local(tmp_path, {"action": "label", "issue": "1", "label": "priority::highest", "actor": "eng-a"})
    assert clean(result, 0) == "" and "declared: critical incident on #1" in result.output


@pytest.mark.parametrize(("content", "expected"), [
    (b'{"action": "open", "title": "caf\xe9"}', "event.json:1:33: the event is not UTF-8 text (byte 0xe9); save it as UTF-8"),
    (b'{"action": "open",\n "title": }', "event.json:2:11: the event is not JSON (Expecting value)"),
    (b"[" * 100_000, "event.json: the event is not a local event (nested too deeply)"),
    (b"[1]", "event.json: a local event is a JSON object with an `action`"),
])
def test_an_unreadable_local_event_is_located(tmp_path: Path, content: bytes, expected: str) -> None:
    assert one_line(local(tmp_path, content)) == f"outage-bot: {tmp_path / expected}"


def test_a_db_that_is_not_sqlite(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a database, just notes\n" * 100)
    result = run(["tick", "--forge", "local", "--db", str(tmp_path / "notes.txt"), "--config", str(POLICY), "--now", NOW])
    assert one_line(result) == f"outage-bot: --db {tmp_path / 'notes.txt'}: not a usable sqlite file (file is not a database)"


def test_a_body_file_that_is_not_utf8(tmp_path: Path) -> None:
    body = tmp_path / "body.md"
    body.write_bytes(b"Everything is \x96 down")
    result = run(["declare", "--forge", "local", "--db", str(tmp_path / "f.sqlite"), "--config", str(POLICY),
                  "--severity", "critical", "--title", "Down", "--body-file", str(body), "--now", NOW])
    assert one_line(result) == f"outage-bot: {body}:1:15: --body-file is not UTF-8 text (byte 0x96); save it as UTF-8"


# -- service URLs from the environment ---------------------------------------------------------------
@pytest.mark.parametrize("url", ["not a url", "http://[::1", "ftp://x", "https://", "http://host:port/api"])
def test_a_malformed_github_api_url_is_named(tmp_path: Path, url: str) -> None:
    env = {"GITHUB_TOKEN": "ghs_test", "GITHUB_REPOSITORY": "o/r", "GITHUB_API_URL": url, "GITHUB_EVENT_NAME": "schedule"}
    line = one_line(run(["tick", "--forge", "github", "--config", str(POLICY), "--now", NOW], env))
    assert line == (f"outage-bot: GITHUB_API_URL is {url!r} "
                    "(expected: an http(s) URL like https://api.github.com or https://HOST/api/v3)")


def test_a_url_is_named_without_the_secret_written_into_it() -> None:
    env = {"GITHUB_TOKEN": "ghs_test", "GITHUB_REPOSITORY": "o/r", "GITHUB_GRAPHQL_URL": "ftp://bot:hunter2@ghe.example.com/graphql"}
    line = one_line(run(["tick", "--forge", "github", "--config", str(POLICY), "--now", NOW], env))
    assert "hunter2" not in line and "GITHUB_GRAPHQL_URL is 'ftp://***@ghe.example.com/graphql'" in line


@pytest.mark.parametrize("url", ["gitlab.example.com/api/v4", "http://[::1/api/v4"])
def test_a_malformed_gitlab_api_url_is_named(url: str) -> None:
    env = {"CI_API_V4_URL": url, "CI_PROJECT_ID": "14", "GITLAB_TOKEN": "glpat-test", "CI_PIPELINE_SOURCE": "schedule"}
    line = one_line(run(["tick", "--forge", "gitlab", "--config", str(POLICY), "--now", NOW], env))
    assert line == f"outage-bot: CI_API_V4_URL is {url!r} (expected: an http(s) URL like https://gitlab.com/api/v4)"


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("SLACK_WEBHOOK_URL", "http://[::1/services/T0/B0/s3cr3t",
     "SLACK_WEBHOOK_URL is not an http(s) URL (expected: one like https://hooks.slack.com/services/...; the value is secret, not shown)"),
    ("SLACK_WEBHOOK_URL_SECURITY", "hooks.slack.com/services/T0/B0/s3cr3t",
     "SLACK_WEBHOOK_URL_SECURITY is not an http(s) URL (expected: one like https://hooks.slack.com/services/...; the value is secret, not shown)"),
    ("SLACK_API_URL", "ftp://slack.example", "SLACK_API_URL is 'ftp://slack.example' (expected: an http(s) URL like https://slack.com/api/)"),
])
def test_a_malformed_chat_url_is_named_before_the_event_changes_anything(tmp_path: Path, variable: str, value: str,
                                                                          expected: str) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"action": "open", "title": "API down", "labels": ["priority::highest"]}))
    db = tmp_path / "f.sqlite"
    args = ["handle", "--forge", "local", "--db", str(db), "--config", str(POLICY), "--event", str(path), "--now", NOW]
    line = one_line(run(args, {variable: value, "SLACK_BOT_TOKEN": "xoxb-test"}))
    assert line == f"outage-bot: {expected}" and "s3cr3t" not in line
    assert "API down" not in db.read_bytes().decode("utf-8", "replace")  # the local event was not applied


# -- click's usage errors exit 1, keeping click's message ------------------------------------------------
@pytest.mark.parametrize(("args", "expected"), [
    (["tick", "--forge", "local", "--now", "yesterday"], "Invalid value for --now: 'yesterday' is not an ISO-8601 time"),
    (["tick", "--forge", "local", "--now", "9999-12-31T23:00Z"], "Invalid value for --now: '9999-12-31T23:00Z' is outside"),
    (["oncall", "--at", "0001-01-01"], "Invalid value for --at"),
    (["oncall", "schedule", "--weeks", "99999999999"], "Invalid value for '--weeks'"),
    (["validate", "--config", "/tmp"], "Invalid value for '--config': File '/tmp' is a directory."),
    (["validate", "--bogus"], "No such option '--bogus'"),
    (["declare", "--title", "x"], "Missing option '--severity'"),
    (["oncall", "tomorrow"], "Invalid value for '[now|schedule|ics]'"),
    (["oncall", "now", "extra"], "Got unexpected extra argument (extra)"),
    (["launch"], "No such command 'launch'"),
    (["handle", "--forge", "bitbucket"], "Invalid value for '--forge'"),
])
def test_usage_errors_exit_1_with_clicks_message(args: list[str], expected: str) -> None:
    result = run(args)
    err = clean(result)
    assert expected in err and "Usage: outage-bot" in err and "--help" in err


def test_usage_errors_exit_1_from_the_installed_console_script(tmp_path: Path) -> None:
    exe = shutil.which("outage-bot") or str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "outage-bot")
    for args in (["tick", "--now", "yesterday"], ["validate", "--config", "/tmp"], ["nope"]):
        done = subprocess.run([exe, *args], check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert done.returncode == 1, (args, done.stderr)
        assert "Traceback" not in done.stderr and "Error:" in done.stderr
    done = subprocess.run([exe, "--help"], check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0 and "Usage: outage-bot" in done.stdout


def test_a_bad_policy_through_the_console_script_is_one_line(tmp_path: Path) -> None:
    exe = shutil.which("outage-bot") or str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "outage-bot")
    policy = tmp_path / "policy.yml"
    policy.write_text("a: &x [*x]\n")
    done = subprocess.run([exe, "validate", "--config", str(policy)], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{policy}:1:8: a[0]: this alias refers to a value that contains it" in done.stderr
