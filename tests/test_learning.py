"""Each learner actually learns CartPole-v1 with 2 workers; A3C also InvertedPendulum-v5 (checked in CI).

Through env=gym with the small-task defaults alone, A3C and n-step Q also learn Acrobot-v1, and
one-step Q and one-step Sarsa LunarLander-v3 (return 0 and 50).

The criterion is the issue's: the mean return of the last 20 training
episodes reaches the threshold within the step budget. Runs stop once solved.

Learning is a claim about most seeds, not every one: Hogwild with two workers does not repeat run to run,
and a learner that solves a task in most seeds still misses in some (docs/results.md has the rates). So
each test trains with seed 0 and, only if that run misses, with seed 1; it fails when both miss, naming
what each reached. A broken learner misses every seed.
"""

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from asyncrl.metrics import solved_at
from tests.conftest import read_jsonl, run_cli

SEEDS = (0, 1)
# Up to two training runs a test, so more than the suite's 300 s.
pytestmark = pytest.mark.timeout(900)


def best_mean(episodes: list[dict], window: int = 20) -> float:
    """The best mean return over ``window`` consecutive episodes (for failure messages)."""
    returns = [e["episode_return"] for e in episodes]
    return max((sum(returns[i - window:i]) / window for i in range(window, len(returns) + 1)), default=float("nan"))


def episodes_of(run: Path) -> list[dict]:
    return [r for r in read_jsonl(run / "metrics.jsonl") if r["type"] == "episode"]


def learns(run_dir: Path, overrides: list[str], miss: Callable[[Path], str | None]) -> Path:
    """Train with each of SEEDS in turn until a run passes; return its directory, or fail naming every miss.

    ``miss`` reads a finished run and returns why it falls short of the claim, or None when it does not.
    """
    misses = []
    for seed in SEEDS:
        run = run_dir / f"seed{seed}"
        proc = run_cli(*overrides, f"seed={seed}", f"hydra.run.dir={run}", timeout=400)
        assert proc.returncode == 0, proc.stderr
        why = miss(run)
        if why is None:
            return run
        misses.append(f"seed {seed}: {why}")
        # In the summary of a passing run too, so a learner that starts to miss more often shows.
        warnings.warn(f"{' '.join(overrides)}: seed {seed} missed ({why})", stacklevel=2)
    pytest.fail("; ".join(misses))


# algo, threshold, step budget
CASES = [
    ("a3c", 475, 300_000),
    ("nstep_q", 475, 300_000),
    ("one_step_q", 195, 300_000),
    ("one_step_sarsa", 195, 300_000),
]


@pytest.mark.parametrize(("algo", "threshold", "budget"), CASES)
def test_learns_cartpole_with_two_workers(run_dir: Path, algo: str, threshold: int, budget: int):
    def miss(run: Path) -> str | None:
        summary = json.loads((run / "summary.json").read_text())
        episodes = episodes_of(run)
        # Recompute the criterion from metrics.jsonl: the first window of 20 episodes at the threshold.
        index = solved_at([e["episode_return"] for e in episodes], 20, threshold)
        if index is None:
            return f"best last-20 mean {best_mean(episodes):.1f} in {summary['global_steps']} steps"
        assert episodes[index]["global_step"] <= budget
        assert summary["status"] == "solved" and summary["solved_at_step"] == episodes[index]["global_step"]
        return None

    learns(run_dir, [f"algo={algo}", "env=cartpole", "workers=2", f"total_steps={budget}",
                     f"env.solved_return={threshold}", "eval.episodes=3"], miss)


# Through env=gym with the small-task defaults and nothing else, at the budgets of the 3-seed tables in
# docs/results.md (the same epsilon schedule): a bar far above random play and below solved (Acrobot: random
# about -491, solved -100; LunarLander: random about -180, solved 200). There the last-20 mean reached the
# bar by: Acrobot -200, a3c 58k-161k steps, nstep_q 76k-120k; LunarLander 50, one_step_sarsa 131k-205k;
# LunarLander 0, one_step_q 120k-200k. One-step Q is held to LunarLander 0, rather than Acrobot -200 (63k,
# 280k and 309k, and a CI run that missed in 500k) or LunarLander 50 (138k-202k, but a CI run's two seeds
# peaked at 42 and 49).
SMALL_TASKS = [
    ("Acrobot-v1", "a3c", -200, 500_000),
    ("Acrobot-v1", "nstep_q", -200, 500_000),
    ("LunarLander-v3", "one_step_q", 0, 500_000),
    ("LunarLander-v3", "one_step_sarsa", 50, 500_000),
]


@pytest.mark.parametrize(("task", "algo", "threshold", "budget"), SMALL_TASKS)
def test_learns_a_small_task_with_the_small_task_defaults(run_dir: Path, task: str, algo: str, threshold: int,
                                                          budget: int):
    def miss(run: Path) -> str | None:
        episodes = episodes_of(run)
        returns = [e["episode_return"] for e in episodes]
        # The run starts below the bar, so reaching it is learned. (Not "near random play": A3C's first
        # 20 Acrobot episodes have averaged -283 in one CI run, four -500s and then already climbing.)
        assert sum(returns[:20]) / 20 < threshold
        index = solved_at(returns, 20, threshold)
        if index is None:
            return f"best last-20 mean {best_mean(episodes):.1f} in {len(episodes)} episodes"
        assert episodes[index]["global_step"] <= budget
        return None

    learns(run_dir, [f"algo={algo}", "env=gym", f"env.id={task}", f"total_steps={budget}",
                     f"env.solved_return={threshold}", "eval.episodes=0"], miss)


def test_a3c_gaussian_learns_inverted_pendulum_with_two_workers(run_dir: Path):
    # Continuous actions: the mean of the last 20 training episodes reaches 950 (of 1000) within 300k
    # steps; seeds 0-2 solved at 121k-207k steps (docs/results.md), and one CI run missed.
    pytest.importorskip("mujoco")

    def miss(run: Path) -> str | None:
        summary = json.loads((run / "summary.json").read_text())
        episodes = episodes_of(run)
        if summary["status"] != "solved":
            return f"best last-20 mean {best_mean(episodes):.1f} in {summary['global_steps']} steps"
        assert solved_at([e["episode_return"] for e in episodes], 20, 950) is not None
        # The final evaluation plays the policy's mean (eval.deterministic): the mean action holds the
        # pole too, not only the sampled one.
        if summary["final_eval_return"] < 950:
            return f"solved, but the mean action scored {summary['final_eval_return']:.1f} in evaluation"
        return None

    learns(run_dir, ["algo=a3c", "env=inverted_pendulum", "workers=2", "total_steps=300000", "eval.episodes=3",
                     "eval.deterministic=true"], miss)
