"""The report's SVG charts, drawn by matplotlib (the `report` extra, imported only here).

- `report-mtt.svg`: median and p90 time to acknowledge and to resolve, per ISO week (hours).
- `report-severity.svg`: incidents per severity (acknowledged, never acknowledged, false
  positives).

The same report gives the same bytes: the Agg canvas and no pyplot (no global figure state,
no GUI backend), `svg.hashsalt` fixed (the SVG's element ids are otherwise random), no date
or version in the metadata, and text kept as <text> (`svg.fonttype: none`) so a reader can
select and search it. No title of any incident is drawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.extras import needs
from bot.report.model import Report

HOUR = 3600.0
MTT_CHART = "report-mtt.svg"
SEVERITY_CHART = "report-severity.svg"
RC: dict[Any, Any] = {  # (matplotlib types the keys as a Literal of every rcParam)
    "svg.hashsalt": "outage-bot",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
METADATA = {"Date": None, "Creator": None}  # no timestamp, no version: the same bytes every run
ACK, RESOLVE, UNACKED, GREY = "#1f77b4", "#d62728", "#ff7f0e", "#9e9e9e"


def _hours(seconds: float | None) -> float:
    return float("nan") if seconds is None else seconds / HOUR


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def mtt_chart(report: Report) -> Any:
    """Median and p90 time to acknowledge and to resolve per week (a matplotlib Figure)."""
    weeks = report.weeks
    x = list(range(len(weeks)))
    fig = _figure(9, 3.6)
    ax = fig.add_subplot()
    for label, color, spreads in (("acknowledge", ACK, [w.row.mtta for w in weeks]),
                                  ("resolve", RESOLVE, [w.row.mttr for w in weeks])):
        medians = [_hours(s.median) for s in spreads]
        p90s = [_hours(s.p90) for s in spreads]
        ax.plot(x, medians, marker="o", color=color, label=f"time to {label}, median")
        ax.plot(x, p90s, marker="^", linestyle="--", color=color, alpha=0.6, label=f"time to {label}, p90")
    step = max(1, len(weeks) // 13)  # at most ~13 labels along the axis
    ax.set_xticks(x[::step], [w.key[5:] for w in weeks][::step])  # "W46"; the axis label says the span
    ax.set_xlim(-0.5, max(len(weeks) - 0.5, 0.5))
    ax.set_ylim(bottom=0)
    ax.set_ylabel("hours")
    years = sorted({w.key[:4] for w in weeks})
    span = years[0] if len(years) == 1 else f"{years[0]}–{years[-1]}"
    ax.set_xlabel(f"ISO week of {span} ({report.timezone}); a gap is a week without incidents")
    ax.set_title("Time to acknowledge and to resolve, per week")
    fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    return fig


def severity_chart(report: Report) -> Any:
    """Incidents per severity, stacked: acknowledged, never acknowledged, false positive."""
    names = list(report.severities)
    rows = [report.severities[n] for n in names]
    acked = [r.incidents - r.unacknowledged for r in rows]
    unacked = [r.unacknowledged for r in rows]
    false = [r.false_positives for r in rows]
    fig = _figure(7, 3.6)
    ax = fig.add_subplot()
    x = list(range(len(names)))
    ax.bar(x, acked, color=ACK, label="acknowledged")
    ax.bar(x, unacked, bottom=acked, color=UNACKED, label="never acknowledged")
    ax.bar(x, false, bottom=[a + u for a, u in zip(acked, unacked)], color=GREY, label="false positive")
    for i, row in enumerate(rows):
        total = row.incidents + row.false_positives
        ax.annotate(str(total), (i, total), ha="center", va="bottom", xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(x, names)
    ax.set_ylabel("incidents")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_ylim(0, max([a + u + f for a, u, f in zip(acked, unacked, false)] + [1]) * 1.15)
    ax.set_title("Incidents per severity")
    fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    return fig


def require() -> None:
    """Fails now, naming the extra, when matplotlib is missing: before the forge is read."""
    with needs("report", "outage-bot report --out"):
        import matplotlib  # noqa: F401


def write_charts(report: Report, out: Path) -> list[Path]:
    """Writes the charts into `out` (created if missing); the paths written."""
    with needs("report", "outage-bot report --out"):
        import matplotlib

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with matplotlib.rc_context(RC):  # the figures read rcParams when drawn and when saved
        for name, draw in ((MTT_CHART, mtt_chart), (SEVERITY_CHART, severity_chart)):
            draw(report).savefig(out / name, format="svg", metadata=METADATA)
            written.append(out / name)
    return written
