"""Build the whole status site: a pure function from incidents, policy and now to the files.

    build_site(incidents, policy, now, environment) -> {"index.html": "...", "feed.atom": b"...", ...}

Pages are plain HTML and CSS from the Jinja2 templates in bot/templates/status_page/
(a policy's `templates:` folder overrides any of them, as for every other template): no
JavaScript, nothing loaded from elsewhere. Every page stays small whatever the history:
the front page lists the incidents of the last HISTORY_DAYS days in one line each, and the
archive has a page per month, cut into pages of PER_PAGE incidents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.durations import humanize
from bot.errors import ConfigError, Problem
from bot.policy import Policy
from bot.resources import TEMPLATES
from bot.status_page import feeds
from bot.status_page.model import (
    BANNER,
    COMPONENT_STATUS,
    STATUS_WORDS,
    Component,
    PublicIncident,
    components_of,
    moment_text,
)
from bot.status_page.uptime import component_views, worst

HISTORY_DAYS = 90  # resolved incidents on the front page
PER_PAGE = 50  # incidents on one archive page

Files = dict[str, "str | bytes"]


def environment(user_dir: Path | None) -> jinja2.Environment:
    """The site's templates: the user's folder first, then the bundled ones; HTML-escaped."""
    dirs = [str(d) for d in (user_dir, TEMPLATES) if d is not None]
    env = ImmutableSandboxedEnvironment(loader=jinja2.FileSystemLoader(dirs), undefined=jinja2.StrictUndefined,
                                        autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(iso=feeds.iso, duration=humanize, status_word=lambda s: STATUS_WORDS.get(s, s.title()),
                       component_word=lambda s: s.replace("_", " ").capitalize(), pct=lambda p: f"{p:.2f}".rstrip("0").rstrip("."))
    return env


def month_of(moment: datetime, policy: Policy) -> str:
    return moment.astimezone(policy.tz).strftime("%Y-%m")


def build_site(incidents: Sequence[PublicIncident], policy: Policy, now: datetime, env: jinja2.Environment, *,
               components: Sequence[Component] | None = None, feed: bool = True) -> Files:
    components = components_of(policy) if components is None else components
    env = env.overlay()
    env.filters["when"] = lambda m: moment_text(m, policy.tz) if m else ""
    active = sorted((i for i in incidents if i.active), key=lambda i: (-_rank(i.impact), i.started_at))
    resolved = sorted((i for i in incidents if not i.active), key=lambda i: i.resolved_at or i.started_at, reverse=True)
    indicator = worst(i.impact for i in active)
    views = component_views(components, incidents, now)

    # The archive: resolved incidents by the month (in the policy's zone) they started, newest first.
    months: dict[str, list[PublicIncident]] = defaultdict(list)
    for incident in sorted(resolved, key=lambda i: i.started_at, reverse=True):
        months[month_of(incident.started_at, policy)].append(incident)
    links: dict[str, str] = {i.id: f"index.html#incident-{i.id}" for i in active}
    pages: list[dict[str, Any]] = []
    for month in sorted(months, reverse=True):
        chunks = [months[month][k:k + PER_PAGE] for k in range(0, len(months[month]), PER_PAGE)]
        for n, chunk in enumerate(chunks, 1):
            path = f"history/{month}.html" if n == 1 else f"history/{month}-{n}.html"
            pages.append({"month": month, "number": n, "of": len(chunks), "path": path, "incidents": chunk,
                          "label": datetime.strptime(month, "%Y-%m").strftime("%B %Y")})
            links.update({i.id: f"{path}#incident-{i.id}" for i in chunk})

    url = policy.status_page.url or ""
    if url and not url.endswith("/"):
        url += "/"
    site = {"name": policy.status_page.name, "url": url, "now": now, "indicator": indicator, "banner": BANNER[indicator],
            "status": COMPONENT_STATUS[indicator], "timezone": policy.timezone}
    recent = [i for i in resolved if (i.resolved_at or i.started_at) >= now - timedelta(days=HISTORY_DAYS)]
    files: Files = {}

    def page(name: str, out: str, **context: Any) -> None:
        root = "../" * out.count("/")
        files[out] = _render(env, f"status_page/{name}.j2", {"site": site, "root": root, "links": links, "now": now, **context})

    page("index.html", "index.html", active=active, components=views, recent=recent, history_days=HISTORY_DAYS,
         archived=len(resolved))
    page("history/index.html", "history/index.html", pages=pages)
    for k, entry in enumerate(pages):
        page("history/month.html", entry["path"], page=entry, newer=pages[k - 1] if k else None,
             older=pages[k + 1] if k + 1 < len(pages) else None)
    page("style.css", "style.css")
    page("badge.svg", "badge.svg")
    since = min((i.started_at for i in incidents), default=now)
    api = feeds.Api(name=policy.status_page.name, url=url, time_zone=policy.timezone, now=now, indicator=indicator,
                    components=views, incidents=incidents, links=links, since=since)
    files.update(api.documents())
    if feed:
        files["feed.atom"] = feeds.atom(incidents, name=policy.status_page.name, url=url, now=now, links=links)
    return files


def _rank(impact: str) -> int:
    return ("none", "minor", "major", "critical").index(impact)


def _render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError([Problem(exc.filename or name, exc.lineno or 1, 1, f"template error: {exc.message}")]) from None
    except jinja2.TemplateNotFound as exc:
        raise ConfigError([Problem(name, 1, 1, f"template not found: {exc.name}")]) from None
    except Exception as exc:  # noqa: BLE001 - any runtime error names the template
        raise ConfigError([Problem(name, 1, 1, f"template error: {type(exc).__name__}: {exc}")]) from None


def check_templates(policy: Policy, user_dir: Path | None) -> list[Problem]:
    """Build the site's pages from sample incidents (for `outage-bot validate`): a template
    error shows before users would have seen it. The feed is not built (it uses no template)."""
    from bot.incident import Incident
    from bot.status_page.model import public_incident

    now = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
    severity = next(iter(policy.severities))
    components = components_of(policy)
    started, ended = now - timedelta(days=2), now - timedelta(days=1)
    samples = [Incident(source=1, severity=severity, kind=None, status="active", title="Sample", declared_at=now - timedelta(hours=1),
                        severity_since=now - timedelta(hours=1), acknowledged_at=now),
               Incident(source=2, severity=severity, kind=None, status="resolved", title="Sample", declared_at=started,
                        severity_since=started, resolved_at=ended, resolution="Fixed.")]
    body = "### What is broken\n\nsample\n\n### Upstream status\n\nhttps://status.example.org"
    incidents = [p for p in (public_incident(i, labels=[], body=body, policy=policy, components=components) for i in samples) if p]
    try:
        build_site(incidents, policy, now, environment(user_dir), components=components, feed=False)
    except ConfigError as exc:
        return exc.problems
    return []
