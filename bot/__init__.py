"""outage-bot: an incident escalation process run from CI, driven by issue labels."""

__version__ = "0.1.0"
