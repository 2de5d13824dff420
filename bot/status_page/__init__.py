"""The static status site `outage-bot status-page` builds: what users can watch.

- `model`: what the site says, taken from incidents as the ledger keeps them: only what users
  are told (the users' notice texts), never people, handles or confidential incidents. Pure.
- `uptime`: component status and uptime percentages from incident times. Pure.
- `build`: the whole site, a pure function from incidents, policy and now to {path: content}.
- `feeds`: the Atom feed (feedgen), Statuspage's public JSON API, used by `build`.
- `shell`: read incidents from a forge, build, write the site into a folder (`build_from_forge`).
"""
