"""Thread scaling (the paper's Table 2): speedup in wall time and steps to reach a reference score.

Reads any run directories (or sweep directories holding them) through their
``metrics.jsonl`` and ``summary.json``. For each algorithm (``--by``,
default ``algo.name``) it groups the runs by ``workers``. A run reaches the
reference at the first episode where the mean return of its last
``--window`` episodes is at least ``--reference``; a group's steps and wall
seconds to the reference are the medians over its runs (seeds) that reached
it. Speedup in wall time = median wall s of the smallest worker count /
median wall s of this one (the paper's Table 2); the steps ratio is the same
with steps (above 1: fewer steps with more workers, i.e. better data
efficiency). Worker counts above the number of cores (``--cores``, default
this machine's) are marked oversubscribed: workers then share cores.

Writes the plot to ``--out`` and the markdown tables next to it (``.md``),
and prints the tables.

    asyncrl-scaling bench-out/cartpole-scaling --reference 195 --out scaling.png
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from asyncrl.analysis.runs import (  # noqa: E402
    argument_parser,
    first_reach,
    group_runs,
    load_episodes,
    load_runs,
    markdown_table,
    median_range,
    shared_description,
    write_figure,
    write_text,
)


def scaling_rows(runs: list[dict[str, Any]], keys: list[str], reference: float,
                 window: int) -> list[dict[str, Any]]:
    """One row per (group, worker count): runs, reached, medians and speedups against the fewest workers."""
    rows: list[dict[str, Any]] = []
    for group, members in group_runs(runs, keys).items():
        by_workers = group_runs(members, ["workers"])
        base: dict[str, Any] | None = None
        for (workers,), runs_w in sorted(by_workers.items(), key=lambda kv: kv[0][0]):
            reached = [r for r in (first_reach(load_episodes(m["dir"]), reference, window) for m in runs_w) if r]
            row = {"group": group, "workers": workers, "runs": len(runs_w), "reached": reached,
                   "steps": statistics.median(r[0] for r in reached) if reached else None,
                   "wall": statistics.median(r[1] for r in reached) if reached else None,
                   "speed": statistics.median(m.get("steps_per_s_running", m["steps_per_s"]) for m in runs_w)}
            base = base or row
            row["wall_speedup"] = _ratio(base["wall"], row["wall"])
            row["steps_ratio"] = _ratio(base["steps"], row["steps"])
            rows.append(row)
    return rows


def _ratio(base: float | None, value: float | None) -> float | None:
    return base / value if base is not None and value else None


def _fmt(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def detail_table(rows: list[dict[str, Any]], keys: list[str], reference: float, cores: int) -> str:
    """Every row: medians with ranges, speedups, steps/s, and an oversubscription note."""
    header = [*keys, "workers", "runs", "reached", f"steps to {reference:g}", f"wall s to {reference:g}",
              "speedup (wall)", "steps ratio", "steps/s (running)", "note"]
    lines = []
    for row in rows:
        note = f"oversubscribed ({row['workers']} workers > {cores} cores)" if row["workers"] > cores else ""
        lines.append([*(str(v) for v in row["group"]), str(row["workers"]), str(row["runs"]),
                      f"{len(row['reached'])}/{row['runs']}",
                      median_range([r[0] for r in row["reached"]], ",.0f"),
                      median_range([r[1] for r in row["reached"]], ".1f"),
                      _fmt(row["wall_speedup"], ".2f"), _fmt(row["steps_ratio"], ".2f"),
                      f"{row['speed']:,.0f}", note])
    return markdown_table(header, lines)


def speedup_table(rows: list[dict[str, Any]], cores: int) -> str:
    """The paper's Table 2 layout: wall-time speedup, one row per group, one column per worker count."""
    counts = sorted({row["workers"] for row in rows})
    groups = list(dict.fromkeys(row["group"] for row in rows))
    cell = {(row["group"], row["workers"]): row["wall_speedup"] for row in rows}
    header = ["method", *(f"{w}{'*' if w > cores else ''}" for w in counts)]
    lines = [[", ".join(str(v) for v in g), *(_fmt(cell.get((g, w)), ".2f") for w in counts)] for g in groups]
    return markdown_table(header, lines)


def figure(rows: list[dict[str, Any]], reference: float, window: int, cores: int, title: str) -> Any:
    """Grouped bars per worker count: speedup in wall time, and median steps to the reference (min-max whiskers).

    Bars rather than lines: with two or three worker counts, lines of groups
    that scale alike lie on top of each other.
    """
    fig, (ax_speed, ax_steps) = plt.subplots(1, 2, figsize=(11, 4.6))
    counts = sorted({row["workers"] for row in rows})
    groups = list(dict.fromkeys(row["group"] for row in rows))
    width = 0.8 / len(groups)
    for i, group in enumerate(groups):
        mine = {r["workers"]: r for r in rows if r["group"] == group and r["wall"] is not None}
        xs = [counts.index(w) + (i - (len(groups) - 1) / 2) * width for w in mine]
        label = ", ".join(str(v) for v in group)
        # No speedup where the fewest workers never reached the reference: no bar there.
        speed = [(x, r["wall_speedup"]) for x, r in zip(xs, mine.values(), strict=True) if r["wall_speedup"]]
        bars = ax_speed.bar([x for x, _ in speed], [v for _, v in speed], width, label=label)
        ax_speed.bar_label(bars, fmt="%.2f", fontsize=7)
        steps = [r["steps"] for r in mine.values()]
        spans = [[s - min(r[0] for r in m["reached"]) for s, m in zip(steps, mine.values(), strict=True)],
                 [max(r[0] for r in m["reached"]) - s for s, m in zip(steps, mine.values(), strict=True)]]
        ax_steps.bar(xs, steps, width, yerr=spans, capsize=2, label=label, error_kw={"linewidth": 0.8})
    for j, w in enumerate(counts):
        ax_speed.hlines(w / counts[0], j - 0.45, j + 0.45, colors="k", linestyles=":",
                        label="linear" if j == 0 else None)
    for ax in (ax_speed, ax_steps):
        ax.set_xticks(range(len(counts)), [f"{w}{' (> cores)' if w > cores else ''}" for w in counts])
        ax.set_xlabel(f"workers ({cores} cores)")
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    ax_speed.set_ylabel(f"speedup in wall time to {reference:g} (ratio of medians)")
    ax_steps.set_ylabel(f"steps to {reference:g} (median, min-max over seeds)")
    fig.suptitle(f"{title}\nreaching a mean of {reference:g} over the last {window} episodes")
    fig.tight_layout()
    return fig


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--reference", type=float, required=True, help="the reference score to reach")
    parser.add_argument("--window", type=int, default=20, help="episodes per mean")
    parser.add_argument("--by", nargs="+", default=["algo.name"], help="config keys: one table block per group")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1,
                        help="cores of the machine the runs ran on (default: this machine's)")
    parser.add_argument("--title", default=None,
                        help="figure title (default: what the runs share, e.g. the environment)")
    parser.add_argument("--out", type=Path, default=Path("scaling.png"), help="the plot; tables go to .md")
    args = parser.parse_args()
    runs = load_runs(parser, args.dirs, args.by)
    rows = scaling_rows(runs, args.by, args.reference, args.window)
    title = args.title if args.title is not None else (
        f"Scaling with workers: {shared_description(runs, [*args.by, 'workers'])}")
    write_figure(figure(rows, args.reference, args.window, args.cores, title), args.out)
    text = (f"{detail_table(rows, args.by, args.reference, args.cores)}\n\n"
            f"Speedup in wall time to {args.reference:g} (* = more workers than the {args.cores} cores):\n\n"
            f"{speedup_table(rows, args.cores)}")
    write_text(args.out.with_suffix(".md"), text)


if __name__ == "__main__":
    main()
