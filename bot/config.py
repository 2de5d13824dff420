"""Finding and loading the policy and its templates (the shell side of bot.policy_file), and
checking the service URLs the environment gives."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.errors import ConfigError, NotUtf8, Problem, UserError
from bot.resources import default_policy_path

if TYPE_CHECKING:  # imported where used: `outage-bot --help` builds no pydantic model, imports no jinja2
    from bot.policy import Policy
    from bot.render import Renderer


def policy_path(config: str | None, environ: Mapping[str, str], cwd: Path | None = None) -> Path:
    """--config, else OUTAGE_BOT_CONFIG, else .outage-bot.yml at the repository root, else the default."""
    if config:
        return Path(config)
    named = (environ.get("OUTAGE_BOT_CONFIG") or "").strip()  # empty (an undefined CI variable): unset
    if named:
        return Path(named)
    root = Path(environ.get("GITHUB_WORKSPACE") or environ.get("CI_PROJECT_DIR") or (cwd or Path.cwd()))
    for name in (".outage-bot.yml", ".outage-bot.yaml"):
        if (root / name).is_file():
            return root / name
    return default_policy_path()


def user_templates(policy: Policy, path: Path) -> Path | None:
    if not policy.templates:
        return None
    folder = (path.parent / policy.templates).resolve()
    return folder


def load(path: Path) -> tuple[Policy, Renderer]:
    """The policy and a renderer for its templates; ConfigError lists every problem."""
    # A first pass without the template check learns the template folder; the second checks names.
    from bot.policy_file import parse_policy
    from bot.render import Renderer

    text = _read(path)
    policy = parse_policy(text, str(path), template_names=None)
    folder = user_templates(policy, path)
    if folder is not None and not folder.is_dir():
        raise ConfigError([Problem(str(path), 1, 1, f"templates: folder {folder} does not exist")])
    if folder is not None and (problems := _template_encodings(folder)):
        raise ConfigError(problems)
    renderer = Renderer(policy.tz, folder)
    policy = parse_policy(text, str(path), template_names=renderer.names())
    return policy, renderer


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError([Problem(str(path), 1, 1, f"cannot read the policy: {exc.strerror or exc}")]) from None
    try:
        return NotUtf8.decode(data, str(path), "the policy")
    except NotUtf8 as exc:
        raise ConfigError([Problem(exc.file, exc.line, exc.column, exc.detail)]) from None


def _template_encodings(folder: Path) -> list[Problem]:
    """Each user template that is not UTF-8, located: Jinja would fail on it only when an
    incident first renders it, with a traceback."""
    problems: list[Problem] = []
    for file in sorted(folder.rglob("*")):
        if not file.is_file():
            continue
        try:
            NotUtf8.decode(file.read_bytes(), str(file), "the template")
        except NotUtf8 as exc:
            problems.append(Problem(exc.file, exc.line, exc.column, exc.detail))
        except OSError as exc:
            problems.append(Problem(str(file), 1, 1, f"cannot read the template: {exc.strerror or exc}"))
    return problems


def service_url(variable: str, value: str, example: str, *, secret: bool = False) -> str:
    """The URL an environment variable gives for a service, checked before any request is
    built from it: a malformed one would otherwise fail deep inside an HTTP library.
    The message never shows a password or token written into the URL, and no part of a
    `secret` one (a Slack webhook's path is its credential)."""
    url = value.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        if secret:
            raise UserError(f"{variable} is not an http(s) URL (expected: one like {example}; the value is secret, not shown)")
        shown = re.sub(r"(?<=//)[^/@]*@", "***@", url)
        raise UserError(f"{variable} is {shown!r} (expected: an http(s) URL like {example})")
    return url


def sample_context(policy: Policy) -> dict[str, Any]:
    """Data to render every template with in `validate`, so a template error shows before an incident."""
    from bot.incident import Incident
    from bot.planner import ForgeInfo, context
    from bot.records import ForgeCapabilities
    from bot.text import UserText

    now = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
    severity = next(iter(policy.severities))
    incident = Incident(source=1, severity=severity, kind=None, status="active", title="Sample", declared_at=now,
                        severity_since=now, tagged=tuple(list(policy.people)[:2]))
    info = ForgeInfo("github", ForgeCapabilities(True, False, False))
    ctx = context(incident, policy, info, now, source_body="### What is broken\n\nsample", source_url="https://example.org/1")
    ctx.update(reopened=False, how="/ack", actor=UserText("someone"), verb="ack", closed=1, what="closed", old_severity=severity, step=1,
               after=now - now, overdue=now - now, repeat=0, left=now - now, escalated=["someone"],
               outage={"number": 2, "url": "https://example.org/2"}, pin="pinned",
               owner={"id": "someone", "name": UserText("someone"), "mention": "@someone", "slack": None},
               postmortem_issue={"number": 3, "url": "https://example.org/3"}, update=UserText("sample"), quiet_for=now - now,
               reply={"who": UserText("someone"), "at": now, "text": UserText("sample")}, since=now, forge="github",
               timeline=[{"at": now, "what": "declared (label priority::highest)", "note": UserText(""), "who": UserText("someone")}])
    return ctx


def check_templates(policy: Policy, renderer: Renderer) -> list[Problem]:
    from bot.oncall import on_call
    from bot.status_index import Index

    problems: list[Problem] = []
    ctx = sample_context(policy)
    for name in sorted(renderer.names()):
        if name.startswith(("_", "status_page/")) or "/_" in name:  # status_page/: the site's, checked below
            continue
        if name == "status.md.j2":
            sample = {"index": Index(), "entries": [], "more": 3, "history": [], "status_page": "", "now": ctx["now"], "severities": {},
                      "hook_problem": "webhook 1 (https://gitlab.example.com/hook) is disabled"}
        elif name == "stale_tick.md.j2":
            sample = {"since": ctx["now"], "now": ctx["now"], "forge": "github"}
        elif name == "chat/drill_reminder.txt.j2":
            sample = {"date": ctx["now"], "severity": next(iter(policy.severities)), "slack_mentions": []}
        elif name == "chat/handoff.txt.j2":
            if policy.oncall is None:
                continue
            shift = on_call(policy.oncall, policy.tz, ctx["now"])
            sample = {"shift": shift, "primary": shift.primary, "secondary": shift.secondary, "slack_mentions": []}
        else:
            sample = ctx
        problems.extend(renderer.check(name, sample))
    from bot.status_page.build import check_templates as check_site

    problems.extend(check_site(policy, renderer.dirs[0] if len(renderer.dirs) > 1 else None))
    return problems
