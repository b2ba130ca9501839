"""Learning curves: episode return against steps, frames or wall time.

Reads any run directories (or sweep directories holding them) through their
``metrics.jsonl`` and ``summary.json``, puts runs in one panel per value of
``--panels`` (default ``env``: one per environment) and one line per group of
``--by`` config keys, and draws each group's mean over its runs (seeds) with a
band from the lowest to the highest run. Returns are first smoothed per run
(mean of the last ``--window`` episodes) and put on a common grid; a run that
ended before the others holds its last value. Runs that stopped themselves on
reaching a score (``stop_when_solved``) say so in the legend, with a dotted
line at that score: their curve flattens there because they stopped.

With one panel the figure goes to ``--out``. With several (the paper's Figure 1
when given its five games: Breakout, BeamRider, Pong, Q*bert, Space Invaders)
``--out`` gets all panels side by side and each panel also gets a PNG of its
own, ``<out stem>-<panel>.png``.

    asyncrl-curves multirun/ --by algo.name --x frames --out curves.png
    asyncrl-curves bench-out/atari --by algo.name --x wall --anchors --out figure1.png

``--anchors`` marks each Atari game's published one-hour scores (``anchors.py``).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import EngFormatter  # noqa: E402

from asyncrl.analysis.anchors import ANCHOR_NAMES, ANCHORS  # noqa: E402
from asyncrl.analysis.runs import (  # noqa: E402
    argument_parser,
    group_runs,
    load_episodes,
    load_runs,
    rolling_mean,
    shared_description,
    stop_threshold,
    write_figure,
)

X_AXES = {"steps": ("steps", "global agent steps"), "frames": ("frames", "frames"),
          "wall": ("wall", "wall time (s)")}


def group_curve(members: list[dict[str, Any]], x_name: str, window: int,
                points: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Grid, mean, min and max over runs of the smoothed return (None without episodes)."""
    curves = []
    for run in members:
        episodes = load_episodes(run["dir"])
        if len(episodes):
            curves.append((getattr(episodes, X_AXES[x_name][0]), rolling_mean(episodes.returns, window)))
    if not curves:
        return None
    grid = np.linspace(min(x[0] for x, _ in curves), max(x[-1] for x, _ in curves), points)
    # left=nan: no value before a run's first episode; past its end np.interp holds the last value.
    ys = np.stack([np.interp(grid, x, y, left=np.nan) for x, y in curves])
    return grid, np.nanmean(ys, axis=0), np.nanmin(ys, axis=0), np.nanmax(ys, axis=0)


def draw_anchors(ax: Any, game: str, x_name: str) -> None:
    """The game's published one-hour scores (anchors.py): dashed lines, and a marker at one hour on a wall axis."""
    for name, score, style in zip(ANCHOR_NAMES, ANCHORS.get(game, ()), ("--", "-.", ":"), strict=False):
        if score is None:
            continue
        ax.axhline(score, color="0.35", linestyle=style, linewidth=0.9, label=f"{name}: {score:g}")
        if x_name == "wall":
            ax.plot([3600], [score], marker="o", color="0.35", markersize=4)


def draw_panel(ax: Any, runs: list[dict[str, Any]], keys: list[str], x_name: str, window: int,
               title: str, anchors: bool = False) -> None:
    """One line with a min-max band per group of runs (and the game's anchors, with ``anchors``)."""
    for group, members in group_runs(runs, keys).items():
        curve = group_curve(members, x_name, window)
        if curve is None:
            continue
        grid, mean, lo, hi = curve
        label = f"{', '.join(str(v) for v in group)} ({len(members)} run{'' if len(members) == 1 else 's'}"
        stops = {stop_threshold(run) for run in members}
        stop = stops.pop() if len(stops) == 1 else None
        # A run that stopped itself when solved holds its last value: its group's curve flattens at the
        # stopping score, which says when the runs stopped, not how high they could go.
        line = ax.plot(grid, mean, label=label + (f", stopped at {stop:g})" if stop is not None else ")"))[0]
        ax.fill_between(grid, lo, hi, color=line.get_color(), alpha=0.2)
        if stop is not None:
            ax.axhline(stop, color=line.get_color(), linestyle=":", linewidth=0.9)
    if anchors:
        draw_anchors(ax, title, x_name)
    ax.set_xlabel(X_AXES[x_name][1])
    if x_name != "wall":
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))  # 400k, 50M: no overlapping digits
    ax.set_ylabel(f"episode return (mean of last {window})")
    ax.set_title(title, fontsize=10)
    # The legend's title names the grouping keys: a bare 8 or True says nothing on its own.
    # algo.name reads as "algo", optim.lr as "lr".
    ax.legend(fontsize=7, title=", ".join(k.removesuffix(".name").rsplit(".", 1)[-1] for k in keys),
              title_fontsize=7)
    ax.grid(alpha=0.3)


def save_figure(panels: dict[str, list[dict[str, Any]]], keys: list[str], x_name: str, window: int,
                title: str, out: Path, anchors: bool = False) -> None:
    """All panels in one figure at ``out``: one row for up to 3 panels or 5 (Figure 1), else a square grid."""
    n = len(panels)
    ncols = n if n <= 3 or n == 5 else math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.8 * nrows), squeeze=False)
    for ax, (name, runs) in zip(axes.flat, panels.items(), strict=False):
        draw_panel(ax, runs, keys, x_name, window, name, anchors)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    write_figure(fig, out)


def slug(name: str) -> str:
    """A file-name-safe form of a panel name (``ALE/Pong-v5`` -> ``ALE-Pong-v5``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")


def plot(runs: list[dict[str, Any]], keys: list[str], panel_key: str, x_name: str, window: int,
         title: str, out: Path, anchors: bool = False) -> list[Path]:
    """Write the figure(s); return the paths written."""
    panels = {str(group[0]): members for group, members in group_runs(runs, [panel_key]).items()}
    save_figure(panels, keys, x_name, window, title, out, anchors)
    written = [out]
    if len(panels) > 1:
        for name, members in panels.items():
            path = out.with_name(f"{out.stem}-{slug(name)}{out.suffix}")
            save_figure({name: members}, keys, x_name, window, title, path, anchors)
            written.append(path)
    return written


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--by", nargs="+", default=["algo.name"], help="config keys: one line per group")
    parser.add_argument("--panels", default="env", help="config key: one panel per value (default: env id)")
    parser.add_argument("--x", choices=sorted(X_AXES), default="steps")
    parser.add_argument("--window", type=int, default=20, help="episodes in the smoothing window")
    parser.add_argument("--title", default=None,
                        help="figure title (default: what the runs share, e.g. the algorithm and workers)")
    parser.add_argument("--out", type=Path, default=Path("curves.png"))
    parser.add_argument("--anchors", action="store_true",
                        help="mark each game's published one-hour scores (anchors.py) in its panel")
    args = parser.parse_args()
    runs = load_runs(parser, args.dirs, [*args.by, args.panels])
    title = args.title if args.title is not None else shared_description(runs, [*args.by, args.panels])
    for path in plot(runs, args.by, args.panels, args.x, args.window, title, args.out, args.anchors):
        print(path)


if __name__ == "__main__":
    main()
