"""Alerts from Alertmanager and Sentry, as the bot reads them (issue 16, part 3).

A webhook body arrives through the forge's CI (a GitLab pipeline trigger's TRIGGER_PAYLOAD, a
GitHub `repository_dispatch` event's `client_payload`); the adapters recognise it
(`looks_like_alert`) and parse it here into one small `Alert`. The policy's `intake` routes
give it a severity and kind (`classify`); `bot.intake.shell` opens the source issue and
declares, or resolves.

- `payloads`: Alertmanager (webhook version 4) and Sentry (issue alert, metric alert, issue
  resolved) bodies -> Alert. Pure.
- `issue`: the source issue's title, body (the evidence, inert) and marker. Pure.
- `shell`: the forge side: find the issue by its marker, open it, hand events to the runner.
"""

from __future__ import annotations

from bot.intake.payloads import Alert, Evidence, classify, looks_like_alert, parse_alert

__all__ = ["Alert", "Evidence", "classify", "looks_like_alert", "parse_alert"]
