"""Each learner learns: one worker with a pinned seed, so each test repeats its run exactly.

With one worker a seed fixes the run (tests/test_reproducibility.py): these
tests pass or fail the same way every time, and fail only when the code
changes what a learner does. The criterion: the mean return of 20
consecutive training episodes reaches the bar within the step budget
(recomputed from metrics.jsonl), and the run started below it, so reaching
it was learned. The comment of each case gives the step at which its seed
reached the bar when the case was written, well inside the budget.

How often two Hogwild workers reach the same bars is a rate over seeds,
measured by `make bench-cartpole-solve` and `make bench-learning-claims`
and recorded in docs/results.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from asyncrl.metrics import solved_at
from tests.conftest import read_jsonl, run_cli

WINDOW = 20


def best_mean(returns: list[float], window: int = WINDOW) -> float:
    """The best mean return over ``window`` consecutive episodes (for failure messages)."""
    return max((sum(returns[i - window:i]) / window for i in range(window, len(returns) + 1)), default=float("nan"))


def train_one_worker(run_dir: Path, *overrides: str) -> tuple[dict[str, Any], list[dict]]:
    """Train one worker process from the command line; its summary and episode records."""
    proc = run_cli("workers=1", "progress=off", *overrides, f"hydra.run.dir={run_dir}", timeout=600)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    episodes = [r for r in read_jsonl(run_dir / "metrics.jsonl") if r["type"] == "episode"]
    return summary, episodes


def assert_learns(summary: dict[str, Any], episodes: list[dict], bar: float, budget: int) -> int:
    """The last-20 mean reached ``bar`` within ``budget`` steps, from below; the step where it did."""
    returns = [e["episode_return"] for e in episodes]
    assert sum(returns[:WINDOW]) / WINDOW < bar, "the run started at the bar: reaching it shows nothing"
    index = solved_at(returns, WINDOW, bar)
    assert index is not None, f"best last-{WINDOW} mean {best_mean(returns):.1f} in {summary['global_steps']} steps"
    step = episodes[index]["global_step"]
    assert step <= budget
    return step


# algo, seed, bar, budget; the bars and budgets of the two-worker tests these replace.
CARTPOLE = [
    ("a3c", 0, 475, 300_000),             # reached at 86,839 steps
    ("nstep_q", 0, 475, 300_000),         # 39,243
    ("one_step_q", 0, 195, 300_000),      # 46,455
    ("one_step_sarsa", 0, 195, 300_000),  # 33,542
]


@pytest.mark.parametrize(("algo", "seed", "bar", "budget"), CARTPOLE)
def test_each_learner_learns_cartpole(run_dir: Path, algo: str, seed: int, bar: int, budget: int):
    summary, episodes = train_one_worker(run_dir, f"algo={algo}", "env=cartpole", f"seed={seed}",
                                         f"total_steps={budget}", f"env.solved_return={bar}", "eval.episodes=0")
    step = assert_learns(summary, episodes, bar, budget)
    assert summary["status"] == "solved" and summary["solved_at_step"] == step


# Through env=gym with the small-task defaults and nothing else: bars far above random play and below
# solved (Acrobot: random about -491, solved -100; LunarLander: random about -180, solved 200).
SMALL_TASKS = [
    ("Acrobot-v1", "a3c", 0, -200, 500_000),                # 59,647
    ("Acrobot-v1", "nstep_q", 0, -200, 500_000),            # 64,947
    ("LunarLander-v3", "one_step_q", 0, 0, 500_000),       # 169,047
    # Seed 0 reached 50 only at 351,668 steps; seed 1 leaves a wider margin to the budget.
    ("LunarLander-v3", "one_step_sarsa", 1, 50, 500_000),  # 173,487
]


@pytest.mark.parametrize(("task", "algo", "seed", "bar", "budget"), SMALL_TASKS)
def test_each_learner_learns_a_small_task_with_the_small_task_defaults(run_dir: Path, task: str, algo: str,
                                                                       seed: int, bar: int, budget: int):
    summary, episodes = train_one_worker(run_dir, f"algo={algo}", "env=gym", f"env.id={task}", f"seed={seed}",
                                         f"total_steps={budget}", f"env.solved_return={bar}", "eval.episodes=0")
    assert_learns(summary, episodes, bar, budget)


def test_a3c_gaussian_learns_inverted_pendulum(run_dir: Path):
    """Continuous actions: the last-20 mean reaches 950 (of 1000), and the policy's mean action then holds
    the pole too (eval.deterministic). About 60 s: the whole budget runs, without early stop, so that the
    evaluated parameters are determined (an early stop ends some steps after the solving episode). When
    this was written the bar was reached at 128,610 steps and the mean action scored 1000."""
    pytest.importorskip("mujoco")
    budget = 200_000  # stricter than the 300k of the two-worker test this replaces
    summary, episodes = train_one_worker(run_dir, "algo=a3c", "env=inverted_pendulum", "seed=0",
                                         f"total_steps={budget}", "stop_when_solved=false", "eval.episodes=3",
                                         "eval.deterministic=true")
    assert_learns(summary, episodes, 950, budget)
    assert summary["final_eval_return"] >= 950
