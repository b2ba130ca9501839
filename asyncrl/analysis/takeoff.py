"""When a run leaves random play for good, and what its policy's entropy did meanwhile.

For each run directory (or sweep directory holding them): its agent steps per
second, the mean of the last ``--window`` training episodes at ``--minutes``
of wall time, the first minute after which that mean stayed above
``--level`` to the end of the run (at least a minute before the end; "-"
when it never did), and the median policy entropy of the training records
in each ``--every``-minute interval (A3C's ``train/entropy``: a uniform
policy over A actions has ln A; 1.79 for Pong's 6).

    asyncrl-takeoff benchmarks/results/pong-probes --level -20 --out bench-out/pong-probes.md
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import numpy as np

from asyncrl.analysis.runs import (
    argument_parser,
    load_episodes,
    load_runs,
    markdown_table,
    records,
    rolling_mean,
    write_text,
)


def left_for_good(wall: np.ndarray, means: np.ndarray, level: float, end: float) -> float | None:
    """Seconds from which ``means`` (one per episode, at ``wall``) stay above ``level`` until ``end``."""
    below = np.nonzero(means <= level)[0]
    start = 0 if len(below) == 0 else below[-1] + 1
    if start >= len(means) or wall[start] > end - 60.0:
        return None
    return float(wall[start])


def row(run: dict[str, Any], window: int, level: float, minutes: list[float], every: float) -> list[str]:
    """One table row: name, steps/s, means at the minutes, take-off minute, entropy medians."""
    episodes = load_episodes(run["dir"])
    means = rolling_mean(episodes.returns, window)
    means[: window - 1] = -np.inf  # a mean of fewer than `window` episodes says nothing yet
    cells = []
    for m in minutes:
        done = np.searchsorted(episodes.wall, 60.0 * m, side="right")
        cells.append("-" if done < window or run["wall_s"] < 60.0 * m - 1.0 else f"{means[done - 1]:.1f}")
    left = left_for_good(episodes.wall, means, level, run["wall_s"])
    frames = episodes.frames[np.searchsorted(episodes.wall, left)] if left is not None else None
    took_off = "-" if left is None else f"{left / 60:.1f} min ({frames / 1e6:.1f}M frames)"
    entropy: dict[int, list[float]] = {}
    for record in records(run["dir"], "train"):
        if "train/entropy" in record:
            entropy.setdefault(int(record["wall_s"] // (60.0 * every)), []).append(record["train/entropy"])
    medians = " ".join(f"{statistics.median(v):.2f}" for _, v in sorted(entropy.items())) or "-"
    return [run["dir"].name, f"{run['steps_per_s']:,.0f}", *cells, took_off, medians]


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--window", type=int, default=100, help="episodes in each mean")
    parser.add_argument("--level", type=float, default=-20.0, help="the score that random play does not leave")
    parser.add_argument("--minutes", nargs="+", type=float, default=[5, 10, 15], help="wall times, in minutes")
    parser.add_argument("--every", type=float, default=3.0, help="minutes per entropy median")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    runs = sorted(load_runs(parser, args.dirs, []), key=lambda r: str(r["dir"]))
    header = ["run", "steps/s", *(f"last-{args.window} mean at {m:g} min" for m in args.minutes),
              f"above {args.level:g} for good from", f"entropy, median per {args.every:g} min"]
    rows = [row(run, args.window, args.level, args.minutes, args.every) for run in runs]
    write_text(args.out, markdown_table(header, rows))


if __name__ == "__main__":
    main()
