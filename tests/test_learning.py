"""Each learner actually learns CartPole-v1 with 2 workers; A3C also InvertedPendulum-v5 (checked in CI).

Through env=gym with the small-task defaults alone, A3C, n-step Q and one-step Q also learn Acrobot-v1,
and one-step Sarsa LunarLander-v3.

The criterion is the issue's: the mean return of the last 20 training
episodes reaches the threshold within the step budget. Runs stop once solved.
"""

import json
from pathlib import Path

import pytest

from asyncrl.metrics import solved_at
from tests.conftest import read_jsonl, run_cli


def best_mean(episodes: list[dict], window: int = 20) -> float:
    """The best mean return over ``window`` consecutive episodes (for failure messages)."""
    returns = [e["episode_return"] for e in episodes]
    return max((sum(returns[i - window:i]) / window for i in range(window, len(returns) + 1)), default=float("nan"))


# algo, threshold, step budget
CASES = [
    ("a3c", 475, 300_000),
    ("nstep_q", 475, 300_000),
    ("one_step_q", 195, 300_000),
    ("one_step_sarsa", 195, 300_000),
]


@pytest.mark.parametrize(("algo", "threshold", "budget"), CASES)
def test_learns_cartpole_with_two_workers(run_dir: Path, algo: str, threshold: int, budget: int):
    proc = run_cli(f"algo={algo}", "env=cartpole", "workers=2", f"total_steps={budget}",
                   f"env.solved_return={threshold}", "eval.episodes=3", f"hydra.run.dir={run_dir}", timeout=400)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    episodes = [r for r in read_jsonl(run_dir / "metrics.jsonl") if r["type"] == "episode"]
    # Recompute the criterion from metrics.jsonl: the first window of 20 episodes at the threshold.
    index = solved_at([e["episode_return"] for e in episodes], 20, threshold)
    assert index is not None, f"{algo}: best last-20 mean {best_mean(episodes):.1f} in {summary['global_steps']} steps"
    assert episodes[index]["global_step"] <= budget
    assert summary["status"] == "solved" and summary["solved_at_step"] == episodes[index]["global_step"]


# Through env=gym with the small-task defaults and nothing else, at the budgets of the 3-seed tables in
# docs/results.md (the same epsilon schedule): a bar far above random play and below solved (Acrobot
# -100, LunarLander 200). There the last-20 mean reached the bar by: Acrobot -200, a3c 59k-161k steps,
# nstep_q 77k-120k, one_step_q 63k-310k; LunarLander 50, one_step_sarsa 131k-205k (the only one of the
# four that solved it; on Acrobot Sarsa solved in one seed of three).
SMALL_TASKS = [
    ("Acrobot-v1", "a3c", -200, 500_000),
    ("Acrobot-v1", "nstep_q", -200, 500_000),
    ("Acrobot-v1", "one_step_q", -200, 500_000),
    ("LunarLander-v3", "one_step_sarsa", 50, 500_000),
]
RANDOM_RETURN = {"Acrobot-v1": -491, "LunarLander-v3": -180}  # about, for a uniformly random policy


@pytest.mark.parametrize(("task", "algo", "threshold", "budget"), SMALL_TASKS)
def test_learns_a_small_task_with_the_small_task_defaults(run_dir: Path, task: str, algo: str, threshold: int,
                                                          budget: int):
    proc = run_cli(f"algo={algo}", "env=gym", f"env.id={task}", f"total_steps={budget}",
                   f"env.solved_return={threshold}", "eval.episodes=0", f"hydra.run.dir={run_dir}", timeout=400)
    assert proc.returncode == 0, proc.stderr
    episodes = [r for r in read_jsonl(run_dir / "metrics.jsonl") if r["type"] == "episode"]
    returns = [e["episode_return"] for e in episodes]
    # It starts nearer random play than the bar: the climb is learned.
    assert sum(returns[:20]) / 20 < (RANDOM_RETURN[task] + threshold) / 2
    index = solved_at(returns, 20, threshold)
    assert index is not None, f"{algo}: best last-20 mean {best_mean(episodes):.1f} in {len(episodes)} episodes"
    assert episodes[index]["global_step"] <= budget


def test_a3c_gaussian_learns_inverted_pendulum_with_two_workers(run_dir: Path):
    # Continuous actions (issue 9): the mean of the last 20 training episodes reaches 950
    # (of 1000) within 300k steps; seeds 0-2 solved at 121k-149k steps (docs/results.md).
    pytest.importorskip("mujoco")
    # The final evaluation plays the policy's mean (eval.deterministic): the claim below is that the
    # mean action holds the pole, not that the sampled one always does.
    proc = run_cli("algo=a3c", "env=inverted_pendulum", "workers=2", "total_steps=300000", "eval.episodes=3",
                   "eval.deterministic=true", f"hydra.run.dir={run_dir}", timeout=400)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    episodes = [r for r in read_jsonl(run_dir / "metrics.jsonl") if r["type"] == "episode"]
    best = best_mean(episodes)
    assert summary["status"] == "solved", f"best last-20 mean {best} in {summary['global_steps']} steps"
    assert solved_at([e["episode_return"] for e in episodes], 20, 950) is not None
    assert summary["final_eval_return"] >= 950  # the mean action holds the pole too
