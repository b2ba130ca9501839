"""Sweeps through Hydra's plugins: SLURM jobs (submitit's local executor here) and an Optuna study."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from tests.conftest import read_jsonl, run_cli

pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the slurm extra")
pytest.importorskip("hydra_plugins.hydra_optuna_sweeper", reason="needs the optuna extra")


def summaries(sweep: Path) -> dict[int, dict]:
    return {int(d.name): json.loads((d / "summary.json").read_text())
            for d in sweep.iterdir() if d.is_dir() and d.name.isdigit()}


def test_a_sweep_runs_as_submitit_jobs(tmp_path: Path):
    """The SLURM route without SLURM: submitit's local executor runs each sweep point as a job of its own."""
    sweep = tmp_path / "sweep"
    proc = run_cli("-m", "hydra/launcher=submitit_local", "seed=0,1", "workers=1", "total_steps=1500",
                   "eval.episodes=1", "progress=off", f"hydra.sweep.dir={sweep}", timeout=300)
    assert proc.returncode == 0, proc.stderr
    runs = summaries(sweep)
    assert sorted(r["seed"] for r in runs.values()) == [0, 1] and all(r["status"] == "finished" for r in runs.values())
    assert list((sweep / ".submitit").iterdir())  # submitit's job folders: the jobs ran through it
    for num in runs:  # each job's own records, in its own directory
        assert any(r["type"] == "episode" for r in read_jsonl(sweep / str(num) / "metrics.jsonl"))


def test_the_slurm_option_asks_for_a_cpu_per_worker():
    """Composed as Hydra composes a sweep (the launcher's settings resolve against the run's config)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from asyncrl.build import config_dir, register_configs
    from asyncrl.registry import store_configs

    register_configs()
    store_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose("config", overrides=["hydra/launcher=slurm", "hydra.launcher.partition=cpu", "workers=6"],
                      return_hydra_config=True)
    GlobalHydra.instance().clear()
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert (launcher.cpus_per_task, launcher.nodes, launcher.tasks_per_node) == (6, 1, 1)
    assert launcher.partition == "cpu"


def test_an_optuna_study_maximizes_the_score_and_a_bad_sampled_value_fails_only_its_trial(tmp_path: Path):
    """Four trials sampled with a pinned seed over gamma (one valid value, one not): the bad ones refused in one line.

    Optuna's random sampler with seed 1 draws gamma=1.5 for three trials and 0.99 for one, every time.
    """
    sweep = tmp_path / "study"
    proc = run_cli("-m", "hydra/sweeper=optuna", "hydra/sweeper/sampler=random", "hydra.sweeper.sampler.seed=1",
                   "hydra.sweeper.n_trials=4", "algo.gamma=choice(0.99,1.5)", "seed=choice(0,1)", "workers=1",
                   "total_steps=3000", "eval.episodes=2", "progress=off", f"hydra.sweep.dir={sweep}", timeout=300)
    assert proc.returncode == 1  # the sweep went on past its failed trials, and says so at the end
    assert "Traceback" not in proc.stderr
    runs = summaries(sweep)
    assert len(runs) == 4
    done = [r for r in runs.values() if r["status"] == "finished"]
    failed = [r for r in runs.values() if r["status"] == "failed"]
    assert len(done) == 1 and len(failed) == 3
    assert all(r["config"]["algo"]["gamma"] == 0.99 for r in done)
    assert all(r["score"] == r["final_eval_return"] for r in done)  # the score: the final evaluation's mean
    assert all(r["score"] is None and r["error"] == "algo.gamma=1.5: must be in (0, 1]" for r in failed)
    refused = [line for line in proc.stderr.splitlines() if line.startswith("error: algo.gamma=1.5")]
    assert refused == ["error: algo.gamma=1.5: must be in (0, 1]"] * 3
    assert "error: 3 job(s) of the sweep failed" in proc.stderr
    best = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert best["best_value"] == done[0]["score"] and best["best_params"]["algo.gamma"] == 0.99


def test_a_study_checks_what_every_trial_shares_before_it_starts(tmp_path: Path):
    sweep = tmp_path / "study"
    proc = run_cli("-m", "hydra/sweeper=optuna", "workers=0", "optim.lr=tag(log,interval(1e-4,1e-2))",
                   f"hydra.sweep.dir={sweep}", timeout=120)
    assert proc.returncode == 2 and proc.stderr.strip() == "error: workers=0: must be >= 1"
    assert not sweep.exists()  # nothing started


def test_the_score_falls_back_to_the_training_mean_without_evaluation(run_dir: Path):
    proc = run_cli("total_steps=2000", "eval.episodes=0", f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["final_eval_return"] is None and not math.isnan(summary["score"])
    assert summary["score"] == summary["recent_mean_return"]
