"""With one worker a seed fixes the run: the same episode records and the same final parameters.

Checked on CartPole with every learner on both local runtimes, on Box2D and
MuJoCo tasks, and on Atari with ale-py's vector env (8 games stepped in C++
threads). This is what lets the learning tests train
one worker with a pinned seed and fail only when the code changes what a
learner does. Two or more workers interleave their updates as the OS
schedules them, and do not repeat (docs/runtime.md#seeds-and-reproducibility).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import asyncrl
from asyncrl.checkpoint import load_checkpoint
from tests.conftest import read_jsonl, run_cli

# Train and progress records average over wall-clock intervals, so they are left out; so is every wall_s.
DETERMINED = ("episode", "eval", "worker")


ONE_WORKER = ("workers=1", "stop_when_solved=false", "progress=off")
Run = tuple[list[dict], dict[str, torch.Tensor]]


def run(run_dir: Path, *overrides: str) -> Run:
    """Train one worker process from the command line, without early stop."""
    proc = run_cli(*ONE_WORKER, *overrides, f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    return determined(run_dir)


def run_in_threads(run_dir: Path, *overrides: str) -> Run:
    """Train one worker thread in this process (asyncrl.train), without early stop."""
    asyncrl.train(asyncrl.make_config("runtime=threads", *ONE_WORKER, *overrides), run_dir)
    return determined(run_dir)


def determined(run_dir: Path) -> Run:
    """A finished run's records that a seed must fix, and every tensor of its checkpoint."""
    records = [{k: v for k, v in r.items() if k != "wall_s"}
               for r in read_jsonl(run_dir / "metrics.jsonl") if r["type"] in DETERMINED]
    ckpt = load_checkpoint(run_dir / "checkpoint.pt")
    tensors = {f"model.{k}": v for k, v in ckpt["model"].items()}
    tensors |= {f"target.{k}": v for k, v in (ckpt.get("target") or {}).items()}
    tensors |= {f"optim_state.{i}": v for i, v in enumerate(ckpt.get("optim_state") or [])}
    return records, tensors


def assert_same_run(a: tuple[list[dict], dict], b: tuple[list[dict], dict]) -> None:
    assert a[0] == b[0]
    assert a[1].keys() == b[1].keys()
    assert all(torch.equal(a[1][k], b[1][k]) for k in a[1]), "the final parameters differ"


def episodes(records: list[dict]) -> list[dict]:
    return [r for r in records if r["type"] == "episode"]


@pytest.mark.parametrize("algo", ["a3c", "nstep_q", "one_step_q", "one_step_sarsa"])
def test_one_worker_thread_with_a_seed_repeats_its_run(tmp_path: Path, algo: str):
    args = (f"algo={algo}", "seed=3", "total_steps=8000", "eval.episodes=2")
    first = run_in_threads(tmp_path / "a", *args)
    assert len(episodes(first[0])) > 50 and any(r["type"] == "eval" for r in first[0])
    assert_same_run(first, run_in_threads(tmp_path / "b", *args))
    other = run_in_threads(tmp_path / "other-seed", *args, "seed=4")
    assert episodes(other[0]) != episodes(first[0])


def test_one_worker_process_with_a_seed_repeats_its_run(tmp_path: Path):
    # The same seed in a thread gives the same episodes here, but the parameters may differ in
    # their last bits (float rounding): each runtime repeats itself, not the other.
    args = ("algo=one_step_sarsa", "seed=3", "total_steps=8000", "eval.episodes=2")
    first = run(tmp_path / "a", *args)
    assert len(episodes(first[0])) > 50
    assert_same_run(first, run(tmp_path / "b", *args))
    assert episodes(run(tmp_path / "other-seed", *args, "seed=4")[0]) != episodes(first[0])


@pytest.mark.parametrize(("env", "steps"), [
    (["env=lunar_lander", "algo=nstep_q"], 4000),              # Box2D
    (["env=inverted_pendulum", "algo=a3c"], 4000),             # MuJoCo, a Gaussian policy
    (["env=breakout", "algo=a3c", "envs_per_worker=8"], 4000),  # ale-py's vector env, 8 games in C++ threads
], ids=["lunar_lander", "inverted_pendulum", "breakout_k8"])
def test_one_worker_repeats_its_run_beyond_classic_control(tmp_path: Path, env: list[str], steps: int):
    pytest.importorskip("Box2D" if "lunar" in env[0] else "mujoco" if "pendulum" in env[0] else "ale_py")
    args = (*env, "seed=1", f"total_steps={steps}", "eval.episodes=1", "eval.max_episode_frames=4000")
    first = run(tmp_path / "a", *args)
    assert episodes(first[0])
    assert_same_run(first, run(tmp_path / "b", *args))
