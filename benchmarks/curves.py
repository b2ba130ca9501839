"""Learning curves: episode return against steps, frames or wall time.

Reads any run directories (or sweep directories holding them) through their
``metrics.jsonl`` and ``.hydra/config.yaml``, groups runs by config keys, and
draws each group's mean over runs with a band from the lowest to the highest
run. A run that ended before the others holds its last value. Returns are
first smoothed per run (mean of the last ``--window`` episodes) and put on a
common grid.

    python benchmarks/curves.py multirun/ --by algo.name --x frames --out curves.png
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402
from compare import config_value, find_runs  # noqa: E402

X_KEYS = {"steps": "global_step", "frames": "frames", "wall": "wall_s"}


def smoothed_curve(run: Path, x_key: str, window: int) -> tuple[np.ndarray, np.ndarray]:
    """x and the rolling mean return over the last ``window`` episodes of one run."""
    xs, returns = [], []
    with (run / "metrics.jsonl").open() as f:
        for line in f:
            record = json.loads(line)
            if record.get("type") == "episode":
                xs.append(record[x_key])
                returns.append(record["episode_return"])
    r = np.asarray(returns, dtype=float)
    cumulative = np.concatenate([[0.0], np.cumsum(r)])
    idx = np.arange(1, len(r) + 1)
    lo = np.maximum(idx - window, 0)
    return np.asarray(xs, dtype=float), (cumulative[idx] - cumulative[lo]) / (idx - lo)


def plot(runs: list[Path], keys: list[str], x_name: str, window: int, out: Path, title: str) -> None:
    groups: dict[str, list[Path]] = defaultdict(list)
    for run in runs:
        config = yaml.safe_load((run / ".hydra" / "config.yaml").read_text())
        groups[", ".join(f"{config_value(config, k)}" for k in keys)].append(run)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for label, members in sorted(groups.items()):
        curves = [smoothed_curve(run, X_KEYS[x_name], window) for run in members]
        curves = [c for c in curves if len(c[0])]
        if not curves:
            continue
        # A run that ended early (e.g. stopped once solved) holds its last value.
        end = max(c[0][-1] for c in curves)
        grid = np.linspace(min(c[0][0] for c in curves), end, 200)
        ys = np.stack([np.interp(grid, x, y, left=np.nan) for x, y in curves])
        mean = np.nanmean(ys, axis=0)
        line = ax.plot(grid, mean, label=f"{label} ({len(curves)} runs)")[0]
        ax.fill_between(grid, np.nanmin(ys, axis=0), np.nanmax(ys, axis=0), color=line.get_color(), alpha=0.2)
    ax.set_xlabel({"steps": "global agent steps", "frames": "frames", "wall": "wall time (s)"}[x_name])
    ax.set_ylabel(f"episode return (mean of last {window})")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="+", type=Path, help="run or sweep directories")
    parser.add_argument("--by", nargs="+", default=["algo.name"], help="config keys to group by")
    parser.add_argument("--x", choices=sorted(X_KEYS), default="steps")
    parser.add_argument("--window", type=int, default=20, help="episodes in the smoothing window")
    parser.add_argument("--title", default="")
    parser.add_argument("--out", type=Path, default=Path("curves.png"))
    args = parser.parse_args()
    runs = find_runs(args.dirs)
    if not runs:
        parser.error("no run directories (with summary.json) found")
    plot(runs, args.by, args.x, args.window, args.out, args.title)
    print(args.out)


if __name__ == "__main__":
    main()
