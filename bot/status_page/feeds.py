"""The machine-readable parts of the site: an Atom feed and Statuspage's public JSON API.

The JSON speaks Atlassian Statuspage's public API v2 (`/api/v2/summary.json`, `status.json`,
`components.json`, `incidents.json`, `incidents/unresolved.json`), as its documentation
gives the shapes (e.g. https://www.mongodb.com/docs/api/doc/cloud-status/ , a Statuspage
page's reference): widgets and monitors that read a Statuspage page read this one. Values:
indicator and impact `none|minor|major|critical`, component status
`operational|degraded_performance|partial_outage|major_outage`, incident status
`investigating|identified|monitoring|resolved`. `incidents.json` holds the 50 most recent,
as Statuspage's does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from bot.extras import needs
from bot.status_page.model import BANNER, STATUS_WORDS, PublicIncident
from bot.status_page.uptime import ComponentView

RECENT = 50  # incidents in incidents.json (Statuspage's own number)
FEED_ENTRIES = 100  # the newest updates in the Atom feed: a reader polls it, it stays small
PAGE_ID = "outage-bot"


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "component"


class Api:
    """The JSON documents, from the site's data."""

    def __init__(self, *, name: str, url: str, time_zone: str, now: datetime, indicator: str,
                 components: Sequence[ComponentView], incidents: Sequence[PublicIncident], links: Mapping[str, str],
                 since: datetime) -> None:
        self.now, self.indicator, self.incidents, self.links, self.url = now, indicator, incidents, links, url
        self.page = {"id": PAGE_ID, "name": name, "url": url, "time_zone": time_zone, "updated_at": iso(now)}
        self.components = [self._component(c, since) for c in components]
        self._by_name = {c["name"]: c for c in self.components}

    def _component(self, view: ComponentView, since: datetime) -> dict[str, Any]:
        return {"id": slug(view.name), "name": view.name, "status": view.status, "created_at": iso(since),
                "updated_at": iso(self.now), "position": view.position + 1, "description": view.description or None,
                "showcase": True, "start_date": None, "group_id": None, "page_id": PAGE_ID, "group": False,
                "only_show_if_degraded": False}

    def incident(self, incident: PublicIncident) -> dict[str, Any]:
        affected = [self._by_name[n] for n in incident.components if n in self._by_name]
        updates = [{"id": f"{incident.id}-{k}", "status": u.status, "body": u.body, "incident_id": incident.id,
                    "created_at": iso(u.at), "updated_at": iso(u.at), "display_at": iso(u.at),
                    "affected_components": [{"code": c["id"], "name": c["name"], "old_status": "operational",
                                             "new_status": c["status"] if incident.active else "operational"}
                                            for c in affected] if k == 0 else None,
                    "deliver_notifications": True, "custom_tweet": None, "tweet_id": None}
                   for k, u in enumerate(incident.updates)]
        return {"id": incident.id, "name": incident.title, "status": incident.status, "created_at": iso(incident.started_at),
                "updated_at": iso(incident.updated_at), "monitoring_at": None, "resolved_at": iso(incident.resolved_at),
                "impact": incident.impact, "shortlink": self.url + self.links[incident.id], "started_at": iso(incident.started_at),
                "page_id": PAGE_ID, "incident_updates": updates[::-1],  # newest first, as Statuspage lists them
                "postmortem_body": None, "postmortem_body_last_updated_at": None, "components": affected}

    def documents(self) -> dict[str, str]:
        status = {"indicator": self.indicator, "description": BANNER[self.indicator]}
        unresolved = [self.incident(i) for i in self.incidents if i.active]
        recent = [self.incident(i) for i in sorted(self.incidents, key=lambda i: i.started_at, reverse=True)[:RECENT]]
        docs = {
            "summary.json": {"page": self.page, "status": status, "components": self.components, "incidents": unresolved,
                             "scheduled_maintenances": []},
            "status.json": {"page": self.page, "status": status},
            "components.json": {"page": self.page, "components": self.components},
            "incidents.json": {"page": self.page, "incidents": recent},
            "incidents/unresolved.json": {"page": self.page, "incidents": unresolved},
        }
        return {f"api/v2/{name}": json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n" for name, doc in docs.items()}


def atom(incidents: Sequence[PublicIncident], *, name: str, url: str, now: datetime, links: Mapping[str, str]) -> bytes:
    """One entry per update, the newest FEED_ENTRIES. Ids are stable: a reader never sees an
    update twice. Without the site's address (status_page.url) links are relative to the feed."""
    with needs("status-page", "outage-bot status-page (its Atom feed)"):
        from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]  # no type hints shipped

    base = url or ""
    feed_id = url or "urn:outage-bot:status-page"
    updates = sorted(((u.at, k, i) for i in incidents for k, u in enumerate(i.updates)), key=lambda t: t[0], reverse=True)
    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(name)
    feed.subtitle(f"Incidents and their updates: {name}")
    feed.author({"name": name})
    feed.link(href=f"{base}feed.atom", rel="self")
    feed.link(href=base or "index.html", rel="alternate")
    feed.updated(updates[0][0] if updates else now)
    for at, k, incident in updates[:FEED_ENTRIES][::-1]:  # feedgen prepends: oldest in first
        update = incident.updates[k]
        entry = feed.add_entry()
        entry.id(f"{feed_id}#incident-{incident.id}-update-{k}" if url else f"{feed_id}:incident:{incident.id}:update:{k}")
        entry.title(f"{STATUS_WORDS.get(update.status, update.status.title())}: {incident.title}")
        entry.updated(at)
        entry.published(at)
        entry.link(href=base + links[incident.id], rel="alternate")
        entry.content(update.body, type="text")
    return bytes(feed.atom_str(pretty=True))
