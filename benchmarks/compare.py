"""Compare runs: a markdown table of solve steps, solve time and speed.

Reads any run directories (or sweep directories holding them) through their
``summary.json`` and ``.hydra/config.yaml``, groups them by config keys, and
prints medians with ranges over the runs of each group.

    python benchmarks/compare.py multirun/2026-11-21/10-00-00 --by algo.name workers
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

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


def load_run(run: Path) -> dict[str, Any]:
    summary = json.loads((run / "summary.json").read_text())
    config_file = run / ".hydra" / "config.yaml"
    summary["config"] = yaml.safe_load(config_file.read_text()) if config_file.exists() else {}
    return summary


def median_range(values: list[float], fmt: str) -> str:
    """'median (min-max)', or '-' for no values."""
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1:
        return format(med, fmt)
    return f"{format(med, fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def table(runs: list[dict[str, Any]], keys: list[str]) -> str:
    """Markdown: one row per group of runs sharing the values of ``keys``."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        groups[tuple(config_value(run["config"], k) for k in keys)].append(run)
    header = [*keys, "runs", "solved", "steps to solve", "wall s to solve", "steps/s (running)",
              "final eval return"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for group, members in sorted(groups.items(), key=lambda kv: tuple(str(v) for v in kv[0])):
        solved = [m for m in members if m.get("solved_at_step") is not None]
        evals = [m["final_eval_return"] for m in members if m.get("final_eval_return") is not None]
        row = [*(str(v) for v in group), str(len(members)), f"{len(solved)}/{len(members)}",
               median_range([m["solved_at_step"] for m in solved], ",.0f"),
               median_range([m["solved_wall_s"] for m in solved], ".1f"),
               median_range([m.get("steps_per_s_running", m["steps_per_s"]) for m in members], ",.0f"),
               median_range(evals, ".1f")]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="+", type=Path, help="run or sweep directories")
    parser.add_argument("--by", nargs="+", default=["algo.name", "workers"], help="config keys to group by")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    runs = [load_run(r) for r in find_runs(args.dirs)]
    if not runs:
        parser.error("no run directories (with summary.json) found")
    text = table(runs, args.by)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
