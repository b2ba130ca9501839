"""Robustness to the learning rate (the paper's Figure 2): final score against lr per optimizer variant.

Reads any run directories (or sweep directories holding them) through their
``metrics.jsonl`` and ``summary.json``; the learning rate is ``optim.lr`` of
the resolved config the run recorded, so runs whose lr was sampled with
``optim.lr='${loguniform:1e-4,1e-2,${seed}}'`` read as the value they used.
A run's final score is the mean return of its last ``--window`` episodes.
Runs are grouped by ``--by`` config keys, by default ``optim_variant``
(sgd_momentum, rmsprop, rmsprop_shared, from ``optim.name`` and ``optim.shared_stats``),
and each group gets a scatter of final score against lr (log x), with
``--thresholds`` drawn as labelled lines; the title says what the runs share
(environment, algorithm, workers, budget) unless ``--title`` is given.

Writes the figure to ``--out`` and a markdown summary next to it (``.md``):
per group, the runs, lr range, median final score, how many runs' final
score reaches each threshold and the range of their learning rates, and the
best lr. Also prints the summary.

    python -m asyncrl -m algo=a3c optim=sgd_momentum,rmsprop,rmsprop_shared "seed=range(0,20)" \\
        'optim.lr="${loguniform:1e-4,1e-2,${seed}}"' hydra.sweep.dir=robustness
    asyncrl-robustness robustness --thresholds 195 475 --out robustness.png
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from asyncrl.analysis.runs import (  # noqa: E402
    argument_parser,
    config_value,
    final_score,
    load_episodes,
    load_runs,
    markdown_table,
    run_value,
    shared_description,
    write_figure,
    write_text,
)


def points(runs: list[dict[str, Any]], keys: list[str], window: int) -> dict[str, list[tuple[float, float]]]:
    """Per group label, the (lr, final score) of each run with episodes, sorted by lr."""
    groups: dict[str, list[tuple[float, float]]] = {}
    for run in runs:
        label = ", ".join(str(run_value(run, k)) for k in keys)
        score = final_score(load_episodes(run["dir"]), window)
        if score is not None:
            groups.setdefault(label, []).append((float(config_value(run["config"], "optim.lr")), score))
    return {label: sorted(pts) for label, pts in sorted(groups.items())}


def summary_table(groups: dict[str, list[tuple[float, float]]], thresholds: list[float], label: str) -> str:
    """Markdown: runs, lr range, median final score, runs reaching each threshold and their lrs, best lr."""
    header = [label, "runs", "lr range", "final score, median"]
    for t in thresholds:
        header += [f"final >= {t:g}", f"their lrs (>= {t:g})"]
    header.append("best lr (final score)")
    rows = []
    for name, pts in groups.items():
        scores = [p[1] for p in pts]
        best = max(pts, key=lambda p: p[1])
        row = [name, str(len(pts)), lr_range([p[0] for p in pts]), f"{statistics.median(scores):.1f}"]
        for t in thresholds:
            good = [p[0] for p in pts if p[1] >= t]
            row += [f"{len(good)}/{len(pts)}", lr_range(good)]
        rows.append([*row, f"{best[0]:.1e} ({best[1]:.1f})"])
    return markdown_table(header, rows)


def lr_range(lrs: list[float]) -> str:
    """'min-max' of learning rates, one value when there is one, '-' for none."""
    if not lrs:
        return "-"
    return f"{min(lrs):.1e}" if len(lrs) == 1 else f"{min(lrs):.1e}-{max(lrs):.1e}"


def figure(groups: dict[str, list[tuple[float, float]]], thresholds: list[float], window: int, title: str) -> Any:
    """One log-x scatter of final score against lr per group, sharing both axes, thresholds in the legend."""
    ncols = min(len(groups), 3)
    nrows = math.ceil(len(groups) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.9 * nrows + 0.4), squeeze=False,
                             sharex=True, sharey=True)
    styles = ["--", ":", "-."]
    for ax, (label, pts) in zip(axes.flat, groups.items(), strict=False):
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=18, zorder=3)
        for i, t in enumerate(thresholds):
            ax.axhline(t, color="grey", linestyle=styles[i % len(styles)], linewidth=0.9, label=f"score {t:g}")
        ax.set_xscale("log")
        # Ticks at 1, 2 and 5 of each decade, all labelled: the sampled range spans about two decades.
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:.0e}".replace("e-0", "e-")))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        ax.set_title(f"{label} ({len(pts)} runs)")
        ax.set_xlabel("learning rate (log scale)")
        ax.grid(alpha=0.3)
    if thresholds:
        axes.flat[0].legend(fontsize=8, loc="upper left")
    for ax in axes[:, 0]:
        ax.set_ylabel(f"final score (mean of last {window} episodes)")
    for ax in axes.flat[len(groups):]:
        ax.set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--by", nargs="+", default=["optim_variant"],
                        help="config keys to group by (default: optim_variant, the optimizer variant)")
    parser.add_argument("--window", type=int, default=20, help="episodes in the final score")
    parser.add_argument("--thresholds", nargs="*", type=float, default=[], help="scores to count and draw")
    parser.add_argument("--title", default=None,
                        help="figure title (default: what the runs share, e.g. the env, algorithm and budget)")
    parser.add_argument("--out", type=Path, default=Path("robustness.png"), help="the figure; summary goes to .md")
    args = parser.parse_args()
    runs = load_runs(parser, args.dirs, args.by)
    groups = points(runs, args.by, args.window)
    if not groups:
        parser.error("no run has any episode")
    title = args.title
    if title is None:
        title = f"Final score against learning rate: {shared_description(runs, args.by)}"
    write_figure(figure(groups, args.thresholds, args.window, title), args.out)
    write_text(args.out.with_suffix(".md"), summary_table(groups, args.thresholds, ", ".join(args.by)))


if __name__ == "__main__":
    main()
