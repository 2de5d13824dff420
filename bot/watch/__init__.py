"""Outages found before anyone reports them: HTTP probes and upstream status pages, checked by
every tick (policy `probes:` and `upstreams:`).

- `state`: what one more check means (pure): the consecutive counts and when to declare or resolve.
- `statuspage`: a Statuspage `status.json` / `summary.json` read as one check (pure).
- `issue`: the issue the bot opens for a probe or an upstream: title, evidence, marker (pure).
- `http`: the checks themselves, concurrently, with httpx (the only I/O besides the forge).
- `run`: the tick's part: check, then declare or resolve through the runner.
"""
