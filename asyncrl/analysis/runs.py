"""Reading run directories: the helpers every benchmark script shares.

A run directory is anything holding a ``summary.json`` (a single run, or one
job of a Hydra multirun), next to its ``metrics.jsonl`` and
``.hydra/config.yaml``. The scripts take run directories or any directories
above them (a sweep, a folder of sweeps) and find the runs themselves.

The config of a run is the resolved one recorded in ``summary.json`` (key
``config``) when present, so sampled values such as
``optim.lr='${loguniform:1e-4,1e-2,${seed}}'`` read as the number the run used;
older runs fall back to ``.hydra/config.yaml``.

Scores: the *rolling mean* at an episode is the mean return of the last
``window`` training episodes up to it (``env.solved_window`` is the run's own
choice, 20 on CartPole). A run *reaches* a threshold at the first episode
whose full-window rolling mean is at least the threshold: the run's own
solved check, :func:`asyncrl.metrics.solved_at`. *Final score*: the mean of
the last ``window`` episodes; *best score*: the highest full-window rolling
mean.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml


def find_runs(paths: list[Path]) -> list[Path]:
    """Every directory under ``paths`` that holds a summary.json."""
    runs: list[Path] = []
    for path in paths:
        runs += sorted(p.parent for p in path.rglob("summary.json"))
    return runs


def config_value(config: dict[str, Any], dotted: str) -> Any:
    """``config['a']['b']`` for ``'a.b'`` (None when missing)."""
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def optimizer_variant(run: dict[str, Any]) -> str:
    """The paper's optimizer variant: sgd_momentum, rmsprop or rmsprop_shared (statistics shared).

    Runs record it as ``optim.name``; older runs recorded ``rmsprop`` with
    ``shared_stats`` for both RMSProp variants, which this tells apart.
    """
    name = config_value(run["config"], "optim.name") or run.get("optim", "?")
    shared = config_value(run["config"], "optim.shared_stats")
    return f"{name}_shared" if shared and name == "rmsprop" else str(name)


def run_value(run: dict[str, Any], key: str) -> Any:
    """A run's value of a dotted config key; summary.json's own entry when the config holds a group there.

    So ``env`` reads as the environment id (``CartPole-v1``), ``optim`` as the
    optimizer name, while ``env.name`` or ``optim.lr`` read the config. The
    extra key ``optim_variant`` gives :func:`optimizer_variant`.
    """
    if key == "optim_variant":
        return optimizer_variant(run)
    value = config_value(run["config"], key)
    if value is None or isinstance(value, dict):
        return run.get(key, value if value is None else None)
    return value


def load_run(run: Path) -> dict[str, Any]:
    """summary.json as a dict, with ``config`` (resolved when recorded) and ``dir``."""
    summary = json.loads((run / "summary.json").read_text())
    if not isinstance(summary.get("config"), dict):
        config_file = run / ".hydra" / "config.yaml"
        summary["config"] = yaml.safe_load(config_file.read_text()) if config_file.exists() else {}
    summary["dir"] = run
    return summary


@dataclass
class Episodes:
    """The episode records of one run, in the order they were written."""

    steps: np.ndarray
    frames: np.ndarray
    wall: np.ndarray
    returns: np.ndarray

    def __len__(self) -> int:
        return len(self.returns)


def records(run: Path, kind: str) -> Iterator[dict[str, Any]]:
    """The records of type ``kind`` in a run's metrics.jsonl, or in the metrics.jsonl.gz of a run kept in the
    repository (benchmarks/keep_run.py: its episode and training records, compressed)."""
    path = run / "metrics.jsonl"
    with path.open(encoding="utf-8") if path.exists() else gzip.open(run / "metrics.jsonl.gz", "rt",
                                                                         encoding="utf-8") as f:
        for line in f:
            if f'"{kind}"' not in line:
                continue
            record = json.loads(line)
            if record.get("type") == kind:
                yield record


def load_episodes(run: Path) -> Episodes:
    """Global step, frames, wall seconds and return of every episode in metrics.jsonl."""
    rows = [(record["global_step"], record.get("frames", record["global_step"]), record["wall_s"],
             record["episode_return"]) for record in records(run, "episode")]
    cols = np.asarray(rows, dtype=float).reshape(-1, 4).T
    return Episodes(steps=cols[0], frames=cols[1], wall=cols[2], returns=cols[3])


def rolling_mean(returns: np.ndarray, window: int) -> np.ndarray:
    """At each episode, the mean of the last ``window`` returns (fewer at the start)."""
    cumulative = np.concatenate([[0.0], np.cumsum(returns)])
    idx = np.arange(1, len(returns) + 1)
    lo = np.maximum(idx - window, 0)
    return (cumulative[idx] - cumulative[lo]) / (idx - lo)


def first_reach(episodes: Episodes, threshold: float, window: int) -> tuple[float, float] | None:
    """(global step, wall s) of the first episode whose full-window mean >= threshold (the run's solved check)."""
    # Imported here: importing asyncrl loads torch, which only the threshold scripts need.
    from asyncrl.metrics import solved_at

    i = solved_at(episodes.returns, window, threshold)
    return None if i is None else (float(episodes.steps[i]), float(episodes.wall[i]))


def final_score(episodes: Episodes, window: int) -> float | None:
    """The mean return of the last ``window`` episodes (None without episodes)."""
    return float(episodes.returns[-window:].mean()) if len(episodes) else None


def best_score(episodes: Episodes, window: int) -> float | None:
    """The highest full-window rolling mean (the mean of all episodes when fewer)."""
    if not len(episodes):
        return None
    if len(episodes) < window:
        return float(episodes.returns.mean())
    return float(rolling_mean(episodes.returns, window)[window - 1:].max())


def group_runs(runs: list[dict[str, Any]], keys: list[str]) -> dict[tuple, list[dict[str, Any]]]:
    """Runs (from :func:`load_run`) grouped by their values of the config ``keys``, sorted."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        groups[tuple(run_value(run, k) for k in keys)].append(run)
    return dict(sorted(groups.items(), key=lambda kv: tuple(str(v) for v in kv[0])))


def shared_description(runs: list[dict[str, Any]], skip: list[str] = ()) -> str:
    """What every run has in common, for a figure's title: ``CartPole-v1, a3c, 2 workers, 50k steps each``.

    Keys in ``skip`` (the grouping keys, which vary by design) are left out,
    as is any key whose value differs between runs. A time limit is named
    when the runs had one; otherwise the step budget, only for runs that do
    not stop when solved (the others end early).
    """
    def common(key: str) -> Any:
        values = {str(run_value(run, key)) for run in runs}
        return run_value(runs[0], key) if len(values) == 1 and key not in skip else None

    parts = [str(v) for v in (common("env"), common("algo.name")) if v is not None]
    workers, envs = common("workers"), common("envs_per_worker")
    if workers is not None:
        per_worker = f" x {envs} envs" if envs and envs > 1 else ""
        parts.append(f"{workers} worker{'' if workers == 1 else 's'}{per_worker}")
    profile = common("profile")
    if profile is not None:
        parts.append(f"profile={profile}")
    steps, limit = common("total_steps"), common("time_limit_s")
    if limit:  # the time limit ends these runs, not their (large) step budget
        parts.append(f"{limit / 60:g} min each")
    elif steps is not None and common("stop_when_solved") is False:
        parts.append(f"{steps / 1e6:g}M steps each" if steps >= 1_000_000 else f"{steps / 1000:g}k steps each")
    return ", ".join(parts)


def stop_threshold(run: dict[str, Any]) -> float | None:
    """The score at which the run stopped itself (``stop_when_solved``), None when it ran its whole budget."""
    if not config_value(run["config"], "stop_when_solved"):
        return None
    value = config_value(run["config"], "env.solved_return")
    return None if value is None else float(value)


def median_range(values: list[float], fmt: str) -> str:
    """'median (min-max)', or '-' for no values."""
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1:
        return format(med, fmt)
    return f"{format(med, fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def window_of(run: dict[str, Any], window: int | None) -> int:
    """``window`` if given, else the run's own ``env.solved_window`` (20 when absent)."""
    return window or int(config_value(run["config"], "env.solved_window") or 20)


def argument_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser with the positional run directories every script takes."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="+", type=Path, help="run directories or directories above them (sweeps)")
    return parser


def load_runs(parser: argparse.ArgumentParser, dirs: list[Path], keys: list[str]) -> list[dict[str, Any]]:
    """Every run under ``dirs`` (see :func:`load_run`).

    Exits with one line when there is none, or when one of the grouping
    ``keys`` is held by no run (a typo such as ``optim.nme`` would otherwise
    put every run in one group named None).
    """
    runs = [load_run(r) for r in find_runs(dirs)]
    if not runs:
        fail(parser, f"no run directories (with summary.json) found under {', '.join(map(str, dirs))}")
    for key in keys:
        if all(run_value(run, key) is None for run in runs):
            fail(parser, f"{key}: no run has this key (config keys such as algo.name, optim.lr, workers; "
                         f"or optim_variant)")
    return runs


def fail(parser: argparse.ArgumentParser, message: str) -> None:
    """Exit with status 2 and one line on stderr (argparse's own errors add the usage)."""
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    sys.exit(2)


def write_text(path: Path | None, text: str) -> None:
    """Print ``text`` and also write it to ``path`` when given."""
    print(text)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")


def write_figure(fig: Any, out: Path) -> None:
    """Write a matplotlib figure to ``out`` (creating its directory) and free it."""
    import matplotlib.pyplot as plt

    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
