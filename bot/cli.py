"""The `outage-bot` command: one click group, a thin skin over the runner."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from functools import cached_property, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot import __version__
from bot.config import check_templates, load, policy_path, service_url
from bot.errors import ConfigError, NotMine, NotUtf8, OutageBotError, UserError
from bot.extras import needs
from bot.resources import default_policy_path

if TYPE_CHECKING:  # the rest is imported where a command uses it: `outage-bot --help` stays cheap
    from bot.policy import Policy
    from bot.ports import Forge, Notifier

DEFAULT_POLICY_NOTICE = (
    "outage-bot: no .outage-bot.yml: using the bundled default policy, whose people are placeholders"
    " (nobody is paged); copy workflows/default.yml to .outage-bot.yml and set your people"
)


def _parse_time(value: str | None, option: str) -> datetime:
    if not value:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 time (e.g. 2026-11-09T12:00-05:00)", param_hint=option) from None
    # Deadlines and shifts are computed years ahead of the moment: near datetime's own limits
    # (years 1 and 9999) they would overflow.
    if not 1970 <= moment.year <= 2999:
        raise click.BadParameter(f"{value!r} is outside the years 1970 to 2999", param_hint=option)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _policy_path(config: str | None, environ: Mapping[str, str]) -> Path:
    """The policy to use; says so on stderr when it is the bundled default, whose people are
    placeholders: a repository that forgot its .outage-bot.yml must not think it is covered."""
    path = policy_path(config, environ)
    if config is None and not environ.get("OUTAGE_BOT_CONFIG", "").strip() and path == default_policy_path():
        click.echo(DEFAULT_POLICY_NOTICE, err=True)
    return path


class _Group(click.Group):
    """Click's group, with usage errors (a bad option value, an unknown option, a missing
    argument) exiting 1 like every other user error: click uses 2, which outage-bot's exit
    codes reserve for a service that kept failing. Click's message and hint are kept."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            exc.exit_code = 1  # type: ignore[misc]  # a ClassVar in click's stubs; set per instance on purpose
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            exc.exit_code = 1  # type: ignore[misc]  # a ClassVar in click's stubs; set per instance on purpose
            raise


def _errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Expected failures become one clean message and their exit code; crashes keep their traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NotMine as exc:
            click.echo(f"outage-bot: {exc}")
            sys.exit(0)
        except OutageBotError as exc:
            click.echo(f"outage-bot: {exc}" if not isinstance(exc, ConfigError) else str(exc), err=True)
            sys.exit(exc.exit_code)

    return wrapper


def config_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
                        help="Policy file (default: $OUTAGE_BOT_CONFIG, .outage-bot.yml, or the bundled default).")(func)


def forge_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--forge", type=click.Choice(["github", "gitlab", "local"]), default=None,
                        help="Which forge (default: detected from GITHUB_ACTIONS / GITLAB_CI).")(func)
    func = click.option("--db", default="outage-bot.sqlite", show_default=True, help="The local forge's sqlite file (--forge local).")(func)
    func = click.option("--dry-run", is_flag=True, help="Print the plan (every action, its target and key); write nothing.")(func)
    return func


def _environ() -> dict[str, str]:
    """The process environment with blank variables left out: GitHub Actions passes a secret
    that is not defined as "", and such a variable must read as unset everywhere (a missing
    token is then an error naming it, not a request with an empty one)."""
    return {name: value for name, value in os.environ.items() if value.strip()}


def confidential_channels(policy: Policy) -> set[str]:
    """The channels a confidential kind (such as security) routes to. They never fall back to
    the shared SLACK_WEBHOOK_URL, which would post confidential incidents wherever it points."""
    return {cid for kind in policy.kinds.values() if kind.confidential for cid in kind.notify}


def _forge_name(forge: str | None, environ: Mapping[str, str]) -> str:
    if forge:
        return forge
    if environ.get("GITHUB_ACTIONS") == "true":
        return "github"
    if environ.get("GITLAB_CI") == "true":
        return "gitlab"
    raise UserError("no forge: not in GitHub Actions (GITHUB_ACTIONS) or GitLab CI (GITLAB_CI); use --forge github|gitlab|local")


class Context:
    """What every command that touches a forge needs, built from the environment."""

    def __init__(self, config: str | None, forge: str | None, db: str, dry_run: bool, now: datetime) -> None:
        self.environ = _environ()
        self.path = _policy_path(config, self.environ)
        self.policy, self.renderer = load(self.path)
        self.forge_name = _forge_name(forge, self.environ)
        self.dry_run = dry_run
        self.now = now
        self.db_name = db  # as the user gave it, for messages
        self.db = _scratch_copy(db) if dry_run and self.forge_name == "local" else db
        self.forge: Forge = self._forge()
        _check_chat_urls(self.environ)  # before a local event changes anything

    def _forge(self) -> Forge:
        if self.forge_name == "local":
            from bot.adapters.local import LocalForge

            return _local_db(lambda: LocalForge(self.db, clock=lambda: self.now), self.db_name)
        if self.forge_name == "github":
            with needs("github", "--forge github"):
                from bot.adapters.github import forge_from_env as github_forge

            return github_forge(self.environ)
        with needs("gitlab", "--forge gitlab"):
            from bot.adapters.gitlab import forge_from_env as gitlab_forge

        return gitlab_forge(self.environ)

    @cached_property
    def notifiers(self) -> dict[str, Notifier]:
        """The notifier of each channel the environment configures (bot.adapters.chat).

        Built when the run first needs them, after the event is read: a payload that is
        malformed or not this run's is refused without warnings about chat channels.

        Elsewhere a channel left out is not told, and the run says which variable to set. With
        the local forge, such a channel goes to the local chat in the sqlite file instead, so a
        sandbox shows every message even when real chat is configured for some channels only.
        """
        from bot.adapters.chat import notifiers_from_env, unserved
        from bot.executor import channel_of

        channels = {cid: channel_of(self.policy, cid) for cid in self.policy.channels}
        confidential = confidential_channels(self.policy)
        found = notifiers_from_env(self.environ, channels, confidential=confidential)
        missing = unserved(self.environ, channels, confidential=confidential, served=found)
        if self.forge_name == "local":
            if not missing:
                return found
            from bot.adapters.local import LocalChat

            if found and not self.dry_run:
                for cid, wanted in missing.items():
                    click.echo(f"outage-bot: channel {cid} goes to the local chat (for real chat set {wanted})", err=True)
            local = _local_db(lambda: LocalChat(self.db, clock=lambda: self.now), self.db_name)
            return {cid: found.get(cid, local) for cid in channels}
        if not self.dry_run:
            for cid, wanted in missing.items():
                click.echo(f"outage-bot: channel {cid} is not told: set {wanted}", err=True)
        return found

    def runner(self) -> Any:
        from bot.runner import Runner

        return Runner(self.forge, self.notifiers, self.policy, self.renderer, now=self.now, dry_run=self.dry_run,
                      log=lambda line: click.echo(f"  {line}"))


def _check_chat_urls(environ: Mapping[str, str]) -> None:
    """Slack's URL variables, checked before a client is built from them (a malformed one
    failed inside urllib with a traceback). A webhook URL is a credential: never shown."""
    for name, value in sorted(environ.items()):
        if name == "SLACK_API_URL":
            service_url(name, value, "https://slack.com/api/")
        elif name == "SLACK_WEBHOOK_URL" or name.startswith("SLACK_WEBHOOK_URL_"):
            service_url(name, value, "https://hooks.slack.com/services/...", secret=True)


def _scratch_copy(db: str) -> str:
    """A dry run on the local forge works on a copy of its file: the event's own simulated
    action (a comment, a label) and anything the bot would do stay out of the real one."""
    import shutil
    import tempfile

    scratch = str(Path(tempfile.mkdtemp(prefix="outage-bot-plan-")) / "forge.sqlite")
    if Path(db).is_file():
        shutil.copyfile(db, scratch)
    return scratch


def _local_db(open_db: Callable[[], Any], db: str) -> Any:
    """The local forge or chat on the sqlite file --db names; a file that is not one is a user error."""
    import sqlite3

    try:
        return open_db()
    except sqlite3.DatabaseError as exc:
        raise UserError(f"--db {db}: not a usable sqlite file ({exc})") from None


def _finish(report: Any, dry_run: bool) -> None:
    for line in report.lines:
        click.echo(line)
    if report.failures:
        for failure in report.failures:
            click.echo(f"outage-bot: {failure}", err=True)
        click.echo("outage-bot: what failed stays recorded and the next run retries it", err=True)
        sys.exit(2)
    if dry_run:
        click.echo("(dry run: nothing was written)")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="outage-bot")
def cli() -> None:
    """outage-bot: turns severity labels on issues into an escalation process.

    Example: outage-bot demo
    """


@cli.command()
@config_option
@click.option("--keep", type=click.Path(dir_okay=False), default=None, help="Keep the sandbox's sqlite file here.")
@click.option("--quiet", is_flag=True, help="Only the timeline and the totals, not the texts the bot wrote.")
@_errors
def demo(config: str | None, keep: str | None, quiet: bool) -> None:
    """The whole life of a critical incident on the embedded local forge, under a simulated clock.

    No credentials, no network. Prints a timeline, then the outage issue, comments and chat
    messages the bot wrote, as people read them (--quiet: the timeline only).

    Example: outage-bot demo
    """
    from bot.demo import run_demo

    path = policy_path(config, {k: v for k, v in _environ().items() if k == "OUTAGE_BOT_CONFIG"}, cwd=Path("/nonexistent"))
    run_demo(path, keep=keep, quiet=quiet, echo=click.echo)


@cli.command()
@config_option
@_errors
def validate(config: str | None) -> None:
    """Check the policy and every template it names; one FILE:LINE:COL line per problem.

    Example: outage-bot validate --config .outage-bot.yml
    """
    path = _policy_path(config, _environ())
    policy, renderer = load(path)
    problems = check_templates(policy, renderer)
    if problems:
        raise ConfigError(problems)
    click.echo(f"{path}: valid ({len(policy.severities)} severities, {len(policy.people)} people, {len(policy.channels)} channels)")


@cli.command()
@config_option
@forge_options
@click.option("--event", "event_path", type=click.Path(dir_okay=False), default=None,
              help="The event payload (default: the one the CI provides).")
@click.option("--now", default=None, help="Replace the clock (ISO-8601).")
@_errors
def handle(config: str | None, forge: str | None, db: str, dry_run: bool, event_path: str | None, now: str | None) -> None:
    """React to one forge event: an issue labeled, unlabeled, opened, closed, reopened or
    assigned; a comment; a reaction; or an alert from Alertmanager or Sentry (their webhook
    body, through a GitLab pipeline trigger or a GitHub repository_dispatch: it declares or
    resolves). A scheduled or manual pipeline runs a tick instead.

    Example: outage-bot handle --event "$GITHUB_EVENT_PATH"
    """
    from bot.intake import Alert

    ctx = Context(config, forge, db, dry_run, _parse_time(now, "--now"))
    event = _read_event(ctx, event_path)
    if event is None:
        report = ctx.runner().tick()
    elif isinstance(event, Alert):  # Alertmanager or Sentry (README: "Alerts from Alertmanager and Sentry")
        from bot.intake.shell import run_alert

        report = run_alert(event, forge=ctx.forge, policy=ctx.policy, runner=ctx.runner(), now=ctx.now, dry_run=dry_run,
                           echo=click.echo)
    else:
        click.echo(f"event: {event.kind.value} on #{event.issue.number} by {event.actor}")
        report = ctx.runner().handle(event)
    _finish(report, dry_run)


def _read_event(ctx: Context, event_path: str | None) -> Any:
    if ctx.forge_name == "local":
        if not event_path:
            raise UserError("--forge local needs --event FILE (a JSON action; see `outage-bot handle --help`)")
        from bot.adapters.local_events import read_event
        from bot.intake.local import read_alert

        return read_alert(event_path) or read_event(ctx.forge, event_path)  # type: ignore[arg-type]
    if ctx.forge_name == "github":
        from bot.adapters.github import read_trigger
    else:
        from bot.adapters.gitlab import read_trigger  # type: ignore[no-redef]
    return read_trigger(ctx.environ, ctx.forge, event_path)


@cli.command()
@config_option
@forge_options
@click.option("--event", "event_path", type=click.Path(dir_okay=False), default=None, help="The event payload.")
@click.option("--now", default=None, help="Replace the clock (ISO-8601).")
@click.pass_context
def plan(click_ctx: click.Context, **kwargs: Any) -> None:
    """Print what `handle` would do for an event, writing nothing (same as `handle --dry-run`).

    Example: outage-bot plan --forge local --event label.json
    """
    kwargs["dry_run"] = True
    click_ctx.invoke(handle, **kwargs)


@cli.command()
@config_option
@forge_options
@click.option("--now", default=None, help="Replace the clock (ISO-8601), for tests and back-fills.")
@_errors
def tick(config: str | None, forge: str | None, db: str, dry_run: bool, now: str | None) -> None:
    """The scheduled run: reminders, escalations, deadline breaches and on-call handoff
    notices for every active incident; declares labeled issues whose event was lost.

    Example: outage-bot tick --now 2026-11-10T09:00-05:00
    """
    ctx = Context(config, forge, db, dry_run, _parse_time(now, "--now"))
    runner = ctx.runner()
    if ctx.policy.probes or ctx.policy.upstreams:
        from bot.watch.run import watch

        runner.phases.append(watch)
    report = runner.tick()
    heartbeat = os.environ.get("OUTAGE_BOT_HEARTBEAT_URL", "").strip()
    if heartbeat and not report.failures and not dry_run:  # only a tick that did its work says "alive"
        from bot.heartbeat import ping

        report.lines.append(ping(heartbeat))
    _finish(report, dry_run)


@cli.command()
@config_option
@forge_options
@click.option("--severity", required=True, help="A severity name from the policy (e.g. critical).")
@click.option("--title", required=True, help="What is broken, in a few words.")
@click.option("--kind", default=None, help="A kind from the policy (e.g. outage, security, upstream).")
@click.option("--body-file", type=click.Path(exists=True, dir_okay=False), default=None, help="The issue body (Markdown).")
@click.option("--now", default=None, help="Replace the clock (ISO-8601).")
@_errors
def declare(config: str | None, forge: str | None, db: str, dry_run: bool, severity: str, title: str,
            kind: str | None, body_file: str | None, now: str | None) -> None:
    """Declare an incident by hand (an outage noticed before any label exists): opens an issue
    with the severity's label and handles it.

    Example: outage-bot declare --severity critical --title "pipx install fails" --kind outage
    """
    from bot.events import Event, EventKind

    ctx = Context(config, forge, db, dry_run, _parse_time(now, "--now"))
    policy: Policy = ctx.policy
    if severity not in policy.severities:
        raise UserError(f"--severity: unknown severity {severity!r} (expected: one of {', '.join(policy.severities)})")
    if kind is not None and kind not in policy.kinds:
        raise UserError(f"--kind: unknown kind {kind!r} (expected: one of {', '.join(policy.kinds) or 'none defined'})")
    labels = [policy.severities[severity].labels[0]] + ([policy.kinds[kind].labels[0]] if kind else [])
    body = _body(body_file) if body_file else ""
    confidential = bool(kind and policy.kinds[kind].confidential)
    if confidential and not ctx.forge.capabilities.confidential_issues:
        # The issue would be public, with the title and body in it: refuse rather than leak.
        raise UserError(f"--kind {kind}: {ctx.forge.name} has no confidential issues, and a {kind} incident must not be "
                        "written in a public one: report it in a private security advisory, and tell its people directly")
    if dry_run:
        shown = "(confidential)" if confidential else repr(title)
        click.echo(f"would open {'a confidential' if confidential else 'an'} issue {shown} with labels {labels} and declare a {severity} incident on it")
        return
    issue = ctx.forge.create_issue(title=title, body=body, labels=labels, confidential=confidential)
    click.echo(f"opened #{issue.number}: {issue.url}")
    event = Event(kind=EventKind.LABELED, issue=issue, actor="outage-bot", at=ctx.now, labels_added=tuple(labels))
    _finish(ctx.runner().handle(event), dry_run)


@cli.command()
@config_option
@forge_options
@click.option("--severity", default=None, help="A severity name from the policy (default: the most severe).")
@click.option("--participants", default=None,
              help="Who takes part: person ids from the policy, comma-separated (default: whom the severity tags now; "
                   "\"\" for nobody).")
@click.option("--now", default=None, help="Replace the clock (ISO-8601).")
@_errors
def drill(config: str | None, forge: str | None, db: str, dry_run: bool, severity: str | None, participants: str | None,
          now: str | None) -> None:
    """Run a whole incident as a drill on the real forge and chat: an issue opened, declared,
    acknowledged, resolved and closed, every message starting with "DRILL — no action needed".
    Only the participants are tagged; users' channels, pinning, post-mortems and the status
    issue are left out. Ends with a report of each step; exit 1 if one did not happen.

    Example: outage-bot drill --severity critical --participants eng-a,eng-b
    """
    from bot.drill import (
        Drill,
        DrillRenderer,
        drill_policy,
        dry_run_lines,
        participants_of,
    )

    ctx = Context(config, forge, db, dry_run, _parse_time(now, "--now"))
    real: Policy = ctx.policy
    name = severity if severity is not None else next(iter(real.severities))
    people = participants_of(real, name, participants, ctx.now)
    # Everything from here on (chat notifiers included) is built from the drill's policy.
    ctx.policy = drill_policy(real, name, people)
    ctx.renderer = DrillRenderer(ctx.renderer)
    run = Drill(ctx.forge, ctx.notifiers, ctx.policy, ctx.renderer, severity=name, participants=people, now=ctx.now,
                echo=click.echo, err=lambda line: click.echo(line, err=True))
    click.echo(f"drill: a {name} incident on {ctx.forge_name}; participants: {', '.join(people) or 'nobody'}")
    if dry_run:
        for line in dry_run_lines(run, run.find()):
            click.echo(line)
        click.echo("(dry run: nothing was written)")
        return
    report = run.run()
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


def _body(path: str) -> str:
    try:
        return NotUtf8.decode(Path(path).read_bytes(), path, "--body-file")
    except OSError as exc:
        raise UserError(f"--body-file {path}: cannot read it ({exc.strerror or exc})") from None


@cli.command()
@config_option
@click.argument("what", type=click.Choice(["now", "schedule", "ics"]), default="now")
@click.option("--at", default=None, help="The moment (ISO-8601; default: now).")
@click.option("--weeks", type=click.IntRange(1, 520), default=8, show_default=True,
              help="How far ahead `schedule` and `ics` go (1 to 520).")
@click.option("--json", "as_json", is_flag=True, help="`now` as {\"primary\", \"secondary\", \"until\"}.")
@_errors
def oncall(config: str | None, what: str, at: str | None, weeks: int, as_json: bool) -> None:
    """Who is primary and secondary, the schedule ahead, or an iCalendar feed of it.

    Example: outage-bot oncall now --at 2026-11-09T12:00-05:00 --json
    """
    import json

    from bot import oncall as rota
    from bot import oncall_view as view

    policy, _ = load(_policy_path(config, _environ()))
    if policy.oncall is None:
        raise UserError(f"{policy.source}: the policy has no `oncall:` section")
    moment = _parse_time(at, "--at")
    if what == "now":
        shift = rota.on_call(policy.oncall, policy.tz, moment)
        click.echo(json.dumps(view.now_json(shift)) if as_json else view.now_text(shift, policy.people, policy.tz))
    elif what == "schedule":
        shifts = rota.shifts_between(policy.oncall, policy.tz, moment, moment + timedelta(weeks=weeks))
        click.echo(view.schedule_table(shifts, policy.tz, policy.people))
    else:
        sys.stdout.buffer.write(view.to_ics(policy.oncall, policy.tz, moment, moment + timedelta(weeks=weeks), policy.people, "On call"))


@cli.command()
@click.option("--forge", type=click.Choice(["github", "gitlab"]), default=None,
              help="Which forge (default: from the git remote `origin`).")
@click.option("--people", default=None, help="Who responds: forge logins, comma-separated (default: asked).")
@click.option("--yes", is_flag=True, help="Take the defaults without asking (without --people: placeholder people).")
@click.option("--force", is_flag=True, help="Overwrite files that are already there.")
@click.option("--status-page", is_flag=True,
              help="Publish the status page on GitHub Pages or GitLab Pages (off by default; the steps say what to set).")
@click.option("--report", is_flag=True,
              help="Add the weekly report (GitHub: its own workflow; GitLab: the steps name its schedule).")
@_errors
def init(forge: str | None, people: str | None, yes: bool, force: bool, status_page: bool, report: bool) -> None:
    """Write the CI wiring, a policy with your people and the outage report form into this
    repository, then print what is left to do (secrets, token, webhook, schedule).

    Example: outage-bot init --people alice,bob --yes
    """
    from bot.init import run_init

    run_init(Path.cwd(), forge=forge, people=people, yes=yes, force=force, echo=click.echo,
             ask=lambda question: str(click.prompt(question)), status_page=status_page, report=report)


@cli.command("status-page")
@config_option
@forge_options
@click.option("--out", type=click.Path(file_okay=False), default="public", show_default=True,
              help="The folder to write the site into.")
@click.option("--now", default=None, help="Replace the clock (ISO-8601).")
@_errors
def status_page(config: str | None, forge: str | None, db: str, dry_run: bool, out: str, now: str | None) -> None:
    """Build the static status site (HTML, Atom feed feed.atom, Statuspage-style JSON under
    api/v2/, a badge) from the forge's incidents. Confidential incidents never appear.
    With --dry-run, list the files and write nothing.

    Example: outage-bot status-page --out public
    """
    from bot.status_page.shell import build_from_forge

    ctx = Context(config, forge, db, dry_run, _parse_time(now, "--now"))
    for line in build_from_forge(ctx.forge, ctx.policy, ctx.path, ctx.now, Path(out), dry_run=dry_run):
        click.echo(line)


@cli.command()
@config_option
@forge_options
@click.option("--since", default="90d", show_default=True, help="How far back: incidents declared in this window (30d, 12w).")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON (durations in seconds) instead of Markdown.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Also write SVG charts into this folder (needs the `report` extra).")
@click.option("--now", default=None, help="Replace the clock (ISO-8601).")
@_errors
def report(config: str | None, forge: str | None, db: str, dry_run: bool, since: str, as_json: bool, out: str | None,
           now: str | None) -> None:
    """MTTA, MTTR (median and p90), breaches, escalations and who acknowledged, per severity and
    ISO week, from the incidents on the forge. Markdown on stdout, also appended to
    $GITHUB_STEP_SUMMARY when set. Confidential incidents count; their titles never appear.

    Example: outage-bot report --since 12w --out charts
    """
    from bot.durations import parse_duration
    from bot.report.shell import run_report

    try:
        window = parse_duration(since)
    except ValueError as exc:
        raise UserError(f"--since: {exc}") from None
    if forge == "local" and not Path(db).is_file():
        raise UserError(f"--db {db}: no such file (the local forge's sqlite file, e.g. from `outage-bot demo --keep FILE`)")
    ctx = Context(config, forge, db, dry_run, _parse_time(now, "--now"))
    summary = ctx.environ.get("GITHUB_STEP_SUMMARY")
    click.echo(run_report(ctx.forge, ctx.policy, ctx.now, window, as_json=as_json, out=Path(out) if out else None,
                          summary=Path(summary) if summary else None, dry_run=dry_run,
                          err=lambda line: click.echo(line, err=True)), nl=False)


@cli.command()
@config_option
@forge_options
@click.argument("issue", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON (times in UTC and in the policy's zone).")
@click.option("--to-gitlab", is_flag=True,
              help="Also add each entry missing from the GitLab incident's own timeline (its Timeline tab); "
                   "with --dry-run, only list them.")
@click.option("--now", default=None, help="Replace the clock (ISO-8601): the end of an open incident's timeline.")
@_errors
def timeline(config: str | None, forge: str | None, db: str, dry_run: bool, issue: int, as_json: bool, to_gitlab: bool,
             now: str | None) -> None:
    """The incident's timeline, built from the forge (ledger, the bot's comments, labels,
    reactions, commands), in the policy's zone and UTC. ISSUE: the incident's issue or its
    outage issue.

    Example: outage-bot timeline 42 --json
    """
    from bot.timeline_forge import run_timeline

    if forge == "local" and not Path(db).is_file():
        raise UserError(f"--db {db}: no such file (the local forge's sqlite file, e.g. from `outage-bot demo --keep FILE`)")
    ctx = Context(config, forge, db, dry_run, _parse_time(now, "--now"))
    for line in run_timeline(ctx.forge, ctx.policy, issue, now=ctx.now, as_json=as_json, to_gitlab=to_gitlab, dry_run=dry_run):
        click.echo(line)


def main() -> None:
    # A cancelled CI job gets SIGTERM (GitHub: after SIGINT; GitLab: at once): end as an
    # interrupt would, so the run gives its lock back (bot.run_lock) instead of leaving it to
    # expire.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    cli()


if __name__ == "__main__":
    main()
