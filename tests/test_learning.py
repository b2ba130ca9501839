"""Each learner actually learns CartPole-v1 with 2 workers (checked in CI).

The criterion is the issue's: the mean return of the last 20 training
episodes reaches the threshold within the step budget. Runs stop once solved.
"""

import json
from pathlib import Path

import pytest

from tests.conftest import read_jsonl, run_cli

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
    solved_at = next((episodes[i]["global_step"] for i in range(19, len(episodes))
                      if sum(e["episode_return"] for e in episodes[i - 19:i + 1]) / 20 >= threshold), None)
    best = max(sum(e["episode_return"] for e in episodes[i - 19:i + 1]) / 20 for i in range(19, len(episodes)))
    assert solved_at is not None, f"{algo}: best last-20 mean {best:.1f} in {summary['global_steps']} steps"
    assert solved_at <= budget
    assert summary["status"] == "solved" and summary["solved_at_step"] == solved_at
