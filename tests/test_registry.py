"""One registry: the paper's four declared once, and a learner from outside the package.

The outside learner is docs/extending.md's n-step Expected Sarsa: its code
block is written to a module outside the package, registered (in code, and
through the ``asyncrl.algorithms`` entry-point group) and must learn CartPole
(one worker with a pinned seed, so the test repeats its run exactly).
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

import pytest

import asyncrl
from asyncrl import registry
from asyncrl.learners import A3C, NStepQ, OneStepQ, OneStepSarsa
from asyncrl.metrics import solved_at
from tests.conftest import ROOT, read_jsonl, run_cli
from tests.test_learning import best_mean

EXTENDING = ROOT / "docs" / "extending.md"
# The learning criterion: the mean of 20 training episodes reaches 195 (CartPole-v1's
# old "solved") within the step budget, recomputed from metrics.jsonl.
THRESHOLD, WINDOW, BUDGET = 195.0, 20, 150_000


def extension_module(directory: Path) -> Path:
    """docs/extending.md's module, written to ``directory/expected_sarsa.py``."""
    blocks = re.findall(r"```python\n(.*?)```", EXTENDING.read_text(encoding="utf-8"), flags=re.S)
    module = directory / "expected_sarsa.py"
    module.write_text(blocks[0], encoding="utf-8")
    return module


def test_the_paper_methods_are_declared_once_each():
    found = asyncrl.algorithms()
    assert {name: a.learner for name, a in found.items()} == {
        "a3c": A3C, "nstep_q": NStepQ, "one_step_q": OneStepQ, "one_step_sarsa": OneStepSarsa}
    assert [n for n, a in found.items() if a.uses_target_net] == ["one_step_q", "one_step_sarsa", "nstep_q"]
    assert [n for n, a in found.items() if a.needs_next_action] == ["one_step_sarsa"]
    assert [n for n, a in found.items() if a.recurrent] == ["a3c"]


def test_a_name_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="'a3c' is already registered"):
        asyncrl.register_algorithm(asyncrl.algorithms()["a3c"])


@pytest.fixture
def expected_sarsa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The extension module, importable (also by spawned workers), registered for one test."""
    extension_module(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("expected_sarsa")
    asyncrl.register_algorithm(module.ALGORITHM)
    yield module
    registry._registered.pop("expected_sarsa", None)
    sys.modules.pop("expected_sarsa", None)


def test_a_learner_from_outside_the_package_learns_cartpole(expected_sarsa, tmp_path: Path):
    """One worker, seed 0, the whole budget (no early stop, so the greedy play evaluated is determined):
    the last-20 mean reached 195 at 36,380 steps when this was written, and the greedy play lasted 371 steps."""
    cfg = asyncrl.make_config("algo=expected_sarsa", "env=cartpole", "optim.lr=3e-3", "model.activation=relu",
                              workers=1, seed=0, total_steps=BUDGET, stop_when_solved=False, progress="off",
                              eval={"episodes": 0})
    assert isinstance(asyncrl.build.build_run(cfg).config.algo, expected_sarsa.ExpectedSarsaConfig)
    result = asyncrl.train(cfg, tmp_path / "run")
    episodes = [r for r in read_jsonl(result.run_dir / "metrics.jsonl") if r["type"] == "episode"]
    returns = [e["episode_return"] for e in episodes]
    at = solved_at(returns, WINDOW, THRESHOLD)
    assert at is not None, f"best last-{WINDOW} mean {best_mean(returns, WINDOW):.1f} in {BUDGET} steps"
    assert sum(returns[:WINDOW]) / WINDOW < THRESHOLD  # learned, not there from the start
    assert result.summary["target_syncs"] == result.summary["global_steps"] // 1000
    assert result.agent.evaluate(episodes=2, deterministic=True)["mean"] > 100  # its greedy play balances the pole


def test_an_unknown_algo_key_of_an_outside_learner_is_refused(expected_sarsa):
    with pytest.raises(asyncrl.ConfigError, match=r"^algo\.eps_finals: not a config option"):
        asyncrl.make_config("algo=expected_sarsa", "algo.eps_finals=[0.1]")
    with pytest.raises(asyncrl.ConfigError, match=r"^algo\.eps_final=2\.0: must be in \[0, 1\]"):
        asyncrl.make_config("algo=expected_sarsa", "algo.eps_final=2")


def test_an_entry_point_adds_the_algorithm_to_the_command_line(tmp_path: Path):
    extension_module(tmp_path)
    dist = tmp_path / "expected_sarsa_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: expected-sarsa-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[asyncrl.algorithms]\nexpected_sarsa = expected_sarsa:ALGORITHM\n")
    env = {"PYTHONPATH": f"{ROOT}:{tmp_path}"}

    help_text = run_cli("--help", env=env).stdout
    assert re.search(r"algo\s+a3c\*, expected_sarsa, nstep_q", help_text)
    run = tmp_path / "run"
    proc = run_cli("algo=expected_sarsa", "total_steps=2000", "eval.episodes=1", "progress=off",
                   f"hydra.run.dir={run}", env=env)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((run / "summary.json").read_text())
    assert summary["algo"] == "expected_sarsa" and summary["config"]["algo"]["t_max"] == 20
    assert summary["target_syncs"] == summary["global_steps"] // 1000
