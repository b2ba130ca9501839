"""Start-up and sweeps: oversubscription is named, start-up is timed as start-up, the time limit holds
from the start, and one failed job does not stop a sweep."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import read_jsonl, run_cli


def test_more_workers_than_cores_warns_in_one_line(run_dir: Path):
    cores = len(os.sched_getaffinity(0))
    proc = run_cli(f"workers={cores + 1}", "total_steps=1500", "eval.episodes=0", "progress=off",
                   f"hydra.run.dir={run_dir}", timeout=180)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: workers={cores + 1} on {cores} cores: each worker gets about "
                        f"{cores / (cores + 1):.2f} of a core and about 300 MiB, and start-up takes longer; "
                        f"workers={cores} keeps every core busy"]


def test_a_worker_that_cannot_finish_starting_is_named_with_its_phase(run_dir: Path):
    proc = run_cli("runtime.startup_timeout_s=0.5", "total_steps=100000", f"hydra.run.dir={run_dir}", timeout=120)
    assert proc.returncode == 1
    assert "had not finished starting after" in proc.stderr and "(phase: starting (imports)" in proc.stderr
    assert "runtime.startup_timeout_s=0.5" in proc.stderr and "stuck" not in proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and "had not finished starting" in summary["error"]
    assert not any(r["type"] == "phase" for r in read_jsonl(run_dir / "metrics.jsonl"))  # the runtime's own


def test_the_time_limit_holds_while_workers_start(run_dir: Path):
    proc = run_cli("time_limit_s=0.5", "total_steps=100000000", "stop_when_solved=false", "eval.episodes=0",
                   f"hydra.run.dir={run_dir}", timeout=120)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["time_limit_reached"] is True
    # Stopped while starting: the workers never got going (a worker's first segment at most).
    assert summary["global_steps"] <= 2 * 5


def test_a_failed_job_is_recorded_and_the_sweep_goes_on(tmp_path: Path):
    sweep = tmp_path / "sweep"
    proc = run_cli("-m", "env=gym", "env.id=benchmarks.fault_envs:FaultyCartPole-v0,CartPole-v1",
                   "total_steps=2000", "eval.episodes=1", "progress=off", f"hydra.sweep.dir={sweep}", timeout=300)
    assert proc.returncode == 1
    failed, finished = (json.loads((sweep / str(n) / "summary.json").read_text()) for n in (0, 1))
    assert failed["status"] == "failed" and "injected fault in env.step" in failed["error"]
    assert finished["status"] == "finished" and finished["env"] == "CartPole-v1"
    assert proc.stderr.strip().splitlines()[-1].startswith(f"error: 1 job(s) of the sweep failed: {sweep / '0'} "
                                                          f"(worker ")
