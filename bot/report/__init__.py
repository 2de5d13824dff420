"""`outage-bot report`: how fast incidents were acknowledged and resolved, per severity and week.

- `model`: records (one resolved incident each, as its ledger keeps it) and a clock in, the
  report's numbers out: counts, MTTA and MTTR (median and p90), breaches, escalations, who
  acknowledged. Pure.
- `view`: the report as Markdown (for people and `$GITHUB_STEP_SUMMARY`) and as JSON. Pure.
- `charts`: the SVG charts, drawn by matplotlib (the `report` extra).
- `shell`: read the records from a forge (`read_records`).
"""
