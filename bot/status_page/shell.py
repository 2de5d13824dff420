"""The shell around the site's build: read incidents from the forge, write the files.

What it reads, on any forge (GitHub, GitLab, the local one):
1. every issue (`changed_issues` since the epoch: open and closed, one request per 100 issues
   on GitHub and GitLab);
2. the ledger (the bot's first comment carrying one, bot.ledger) of each issue that may hold
   an incident: an issue with a severity or kind label, or one the public status index names
   (an incident whose label was taken off after it ended). One request per incident.

Left out before anything is read: confidential issues, issues of a confidential kind's label,
the bot's status issues and outage issues, and whatever the private status index holds.
`bot.status_page.model` then leaves out any incident whose ledger says its kind is confidential.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from bot.ledger import STATUS_RE, decode_ledger, outage_source, status_data
from bot.policy import Policy
from bot.ports import Forge
from bot.records import Issue
from bot.status_index import Index
from bot.status_page.model import (
    Component,
    PublicIncident,
    components_of,
    public_incident,
)

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MANIFEST = ".outage-bot-site"  # in the output folder: the files the last build wrote


def read_incidents(forge: Forge, policy: Policy) -> list[PublicIncident]:
    """Every incident users may see, as the forge holds it now."""
    bot = (getattr(forge, "bot_login", None) or "").lower()

    def by_bot(login: str) -> bool:  # anyone can paste a marker: only the bot's own are believed
        return not bot or login.lower() == bot

    issues = forge.changed_issues(EPOCH)
    status_issues = [i for i in issues if policy.labels.status in i.labels and STATUS_RE.search(i.body or "") and by_bot(i.author)]
    secret_labels = {label for kind in policy.kinds.values() if kind.confidential for label in kind.labels}
    named: set[int] = set()
    for status in status_issues:
        if status.confidential:
            continue  # the private index: what it names stays out
        index = Index.from_data(status_data(status.body))
        named |= {n for n, e in index.entries.items() if not e.confidential}
        named |= {int(h["source"]) for h in index.history if not h.get("confidential")}
    skip = {i.number for i in status_issues}
    components = components_of(policy)
    found: list[PublicIncident] = []
    for issue in issues:
        if issue.confidential or secret_labels & set(issue.labels) or issue.number in skip:
            continue
        if outage_source(issue.body or "") is not None and by_bot(issue.author):
            continue  # an outage issue: its incident is read on its source issue
        if issue.number not in named and policy.severity_of(issue.labels) is None:
            continue
        incident = _incident(forge, issue, by_bot, policy, components)
        if incident is not None:
            found.append(incident)
    return found


def _incident(forge: Forge, issue: Issue, by_bot: Callable[[str], bool], policy: Policy,
              components: Sequence[Component]) -> PublicIncident | None:
    for comment in forge.list_comments(issue.number):
        if by_bot(comment.author):
            ledger = decode_ledger(comment.body)
            if ledger is not None:
                return public_incident(ledger.incident, labels=issue.labels, body=issue.body, policy=policy, components=components)
    return None


def write_site(files: dict[str, str | bytes], out: Path) -> list[Path]:
    """Write the site into `out`, and remove what an earlier build wrote there and this one
    did not (an incident that became confidential must vanish from the published site too).
    Files the bot did not write are left alone."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / MANIFEST
    before = set(manifest.read_text(encoding="utf-8").split("\n")) if manifest.is_file() else set()
    written: list[Path] = []
    for name, content in sorted(files.items()):
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        written.append(path)
    for name in sorted(before - set(files)):
        stale = out / name
        if name and ".." not in Path(name).parts and stale.is_file():
            stale.unlink()
    manifest.write_text("\n".join(sorted(files)) + "\n", encoding="utf-8")
    return written


def build_from_forge(forge: Forge, policy: Policy, policy_path: Path, now: datetime, out: Path, *,
                     dry_run: bool = False) -> list[str]:
    """`outage-bot status-page`: read, build, write; lines saying what was done."""
    import time

    from bot.config import user_templates
    from bot.status_page.build import build_site, environment

    started = time.perf_counter()
    incidents = read_incidents(forge, policy)
    read = time.perf_counter()
    files = build_site(incidents, policy, now, environment(user_templates(policy, policy_path)))
    built = time.perf_counter()
    active = sum(1 for i in incidents if i.active)
    lines = [f"status page: {len(incidents)} incidents ({active} in progress), {len(files)} files "
             + f"(read {read - started:.1f} s, built {built - read:.1f} s)"]
    if dry_run:
        lines += [f"  would write {out / name}" for name in sorted(files)]
        lines.append("(dry run: nothing was written)")
        return lines
    write_site(files, out)
    lines.append(f"written to {out}/ (open {out / 'index.html'})")
    return lines
