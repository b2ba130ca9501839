"""Compare runs: a markdown table of scores, steps and wall time to a threshold, speed.

Reads any run directories (or sweep directories holding them) through their
``summary.json`` and ``metrics.jsonl``, groups them by config keys, and prints
medians with ranges over the runs of each group:

- final score: the mean return of the last ``--window`` training episodes;
- best score: the highest mean over ``--window`` consecutive episodes;
- reached, steps and wall s to the threshold: with ``--threshold``, the first
  episode where that mean reaches it (medians over the runs that did); without,
  the run's own solved criterion (``env.solved_return``) as summary.json has it;
- steps/s (running): leaving out worker start-up;
- final eval return: the evaluation at the end of the run (``eval.*``).

``--window`` defaults to each run's ``env.solved_window``.

    asyncrl-compare multirun/2026-11-21/10-00-00 --by algo.name workers
    asyncrl-compare bench-out/cartpole-grid --by algo.name optim.name --threshold 195
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asyncrl.analysis.runs import (
    argument_parser,
    best_score,
    final_score,
    first_reach,
    group_runs,
    load_episodes,
    load_runs,
    markdown_table,
    median_range,
    window_of,
    write_text,
)


def run_scores(run: dict[str, Any], threshold: float | None, window: int | None) -> dict[str, Any]:
    """Final and best score, and (step, wall s) at the threshold or None, of one run."""
    episodes = load_episodes(run["dir"])
    n = window_of(run, window)
    if threshold is None:
        step = run.get("solved_at_step")
        reach = None if step is None else (step, run["solved_wall_s"])
    else:
        reach = first_reach(episodes, threshold, n)
    return {"final": final_score(episodes, n), "best": best_score(episodes, n), "reach": reach}


def table(runs: list[dict[str, Any]], keys: list[str], threshold: float | None = None,
          window: int | None = None) -> str:
    """Markdown: one row per group of runs sharing the values of ``keys``."""
    to = "solve" if threshold is None else format(threshold, "g")
    header = [*keys, "runs", "final score", "best score", "reached" if threshold is not None else "solved",
              f"steps to {to}", f"wall s to {to}", "steps/s (running)", "final eval return"]
    rows = []
    for group, members in group_runs(runs, keys).items():
        scores = [run_scores(m, threshold, window) for m in members]
        reached = [s["reach"] for s in scores if s["reach"] is not None]
        evals = [m["final_eval_return"] for m in members if m.get("final_eval_return") is not None]
        rows.append([*(str(v) for v in group), str(len(members)),
                     median_range([s["final"] for s in scores if s["final"] is not None], ".1f"),
                     median_range([s["best"] for s in scores if s["best"] is not None], ".1f"),
                     f"{len(reached)}/{len(members)}",
                     median_range([r[0] for r in reached], ",.0f"),
                     median_range([r[1] for r in reached], ".1f"),
                     median_range([m.get("steps_per_s_running", m["steps_per_s"]) for m in members], ",.0f"),
                     median_range(evals, ".1f")])
    return markdown_table(header, rows)


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--by", nargs="+", default=["algo.name", "workers"], help="config keys to group by")
    parser.add_argument("--threshold", type=float, help="score to reach (default: each run's solved criterion)")
    parser.add_argument("--window", type=int, help="episodes per mean (default: each run's env.solved_window)")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    runs = load_runs(parser, args.dirs, args.by)
    write_text(args.out, table(runs, args.by, args.threshold, args.window))


if __name__ == "__main__":
    main()
