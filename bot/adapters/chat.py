"""Which notifier serves each policy channel, from the environment.

- A channel with `slack:` -> the Slack Web API when SLACK_BOT_TOKEN is set (SLACK_API_URL
  replaces its base URL); else an incoming webhook: SLACK_WEBHOOK_URL_<ID> for that channel
  (the channel id upper-cased, other characters as `_`), else SLACK_WEBHOOK_URL.
- A channel with `apprise:` (and no usable Slack) -> Apprise, its `${VARS}` read from the
  environment when a message is sent.
- Anything else is left out; `unserved` says why, naming the variable to set, and the shell
  decides whether that is an error.

A webhook posts to the one channel it was created for. So a single SLACK_WEBHOOK_URL sends
every routed message there; channels given in `confidential` (those a confidential kind such
as security notifies) never fall back to it and need their own SLACK_WEBHOOK_URL_<ID>.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from bot.adapters.apprise_chat import variables_in
from bot.extras import needs
from bot.records import Channel

if TYPE_CHECKING:  # each client library is imported only when a channel uses it (bot/extras.py)
    from bot.adapters.apprise_chat import AppriseNotifier
    from bot.adapters.slack import SlackNotifier, SlackWebhookNotifier
    from bot.ports import Notifier

TOKEN = "SLACK_BOT_TOKEN"
API_URL = "SLACK_API_URL"
WEBHOOK = "SLACK_WEBHOOK_URL"


def webhook_variable(channel_id: str) -> str:
    """SLACK_WEBHOOK_URL_<ID>: `security` -> SLACK_WEBHOOK_URL_SECURITY."""
    return f"{WEBHOOK}_{re.sub(r'[^A-Z0-9]', '_', channel_id.upper())}"


def notifiers_from_env(
    environ: Mapping[str, str],
    channels: dict[str, Channel],
    *,
    confidential: Collection[str] = (),
) -> dict[str, Notifier]:
    """The notifier for each channel id that can be served; channels that cannot are absent."""
    out: dict[str, Notifier] = {}
    token = _get(environ, TOKEN)
    web_api: SlackNotifier | None = None
    if token and any(channel.slack for channel in channels.values()):
        with needs("slack", TOKEN):
            from bot.adapters.slack.web_api import SlackNotifier
        web_api = SlackNotifier(token, base_url=_get(environ, API_URL) or None)
    webhooks: dict[str, SlackWebhookNotifier] = {}
    apprise: AppriseNotifier | None = None
    for cid, channel in channels.items():
        if channel.slack:
            if web_api is not None:
                out[cid] = web_api
                continue
            variable = _webhook_for(environ, cid, confidential)
            if variable:
                url = _get(environ, variable)
                if url not in webhooks:
                    with needs("slack", variable):
                        from bot.adapters.slack.webhook import SlackWebhookNotifier
                    webhooks[url] = SlackWebhookNotifier(url, variable=variable)
                out[cid] = webhooks[url]
                continue
        if channel.apprise and not _missing_apprise(environ, channel):
            if apprise is None:
                with needs("apprise", f"channel {cid!r} (apprise:)"):
                    from bot.adapters.apprise_chat import AppriseNotifier

                    apprise = AppriseNotifier(environ)  # imports Apprise
            out[cid] = apprise
    return out


def unserved(
    environ: Mapping[str, str],
    channels: dict[str, Channel],
    *,
    confidential: Collection[str] = (),
    served: Collection[str] | None = None,
) -> dict[str, str]:
    """For each channel `notifiers_from_env` leaves out: the variable(s) that would serve it.
    `served`: the channel ids it already returned, to save building the notifiers again."""
    if served is None:
        served = notifiers_from_env(environ, channels, confidential=confidential)
    out: dict[str, str] = {}
    for cid, channel in channels.items():
        if cid in served:
            continue
        wanted: list[str] = []
        if channel.slack:
            wanted.append(f"{TOKEN} or {webhook_variable(cid)}")
            if cid not in confidential:
                wanted[-1] += f" or {WEBHOOK}"
        if channel.apprise:
            wanted += _missing_apprise(environ, channel)
        out[cid] = " / ".join(wanted) if wanted else "nothing: the channel has neither `slack:` nor `apprise:`"
    return out


def _webhook_for(environ: Mapping[str, str], cid: str, confidential: Collection[str]) -> str:
    own = webhook_variable(cid)
    if _get(environ, own):
        return own
    if cid not in confidential and _get(environ, WEBHOOK):
        return WEBHOOK
    return ""


def _missing_apprise(environ: Mapping[str, str], channel: Channel) -> list[str]:
    return [name for name in variables_in(channel.apprise or "") if not _get(environ, name)]


def _get(environ: Mapping[str, str], name: str) -> str:
    # CI secrets pasted with a trailing newline are common; an empty value is unset.
    return (environ.get(name) or "").strip()
