"""Faults: non-finite updates, a stuck worker, a run directory that cannot be written."""

import json
import math
from pathlib import Path

import torch

from asyncrl.checkpoint import load_checkpoint
from tests.conftest import read_jsonl, run_cli


def test_a_non_finite_update_is_skipped_and_counted(run_dir: Path):
    # One NaN reward in each worker's env: that worker's next update is skipped.
    proc = run_cli("env=gym", "env.id=benchmarks.fault_envs:NaNOnceCartPole-v0", "total_steps=3000",
                   "eval.episodes=1", f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    skipped = [r for r in read_jsonl(run_dir / "metrics.jsonl") if r["type"] == "skipped_update"]
    assert summary["status"] == "finished" and summary["skipped_updates"] == len(skipped) == 2
    assert all(math.isnan(r["loss"]) for r in skipped)
    model = load_checkpoint(run_dir / "checkpoint.pt")["model"]
    assert all(torch.isfinite(t).all() for t in model.values())  # NaN never reached the shared net


def test_non_finite_updates_in_a_row_stop_the_run_keeping_the_last_good_checkpoint(run_dir: Path):
    proc = run_cli("env=gym", "env.id=benchmarks.fault_envs:NaNRewardCartPole-v0", "total_steps=1000000",
                   "runtime.max_nonfinite_updates=5", "checkpoint.interval=100", f"hydra.run.dir={run_dir}",
                   timeout=120)
    assert proc.returncode == 1
    assert "5 updates in a row had a non-finite loss or gradient" in proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed"
    ckpt = load_checkpoint(run_dir / "checkpoint.pt")  # the last periodic one, from before the fault
    assert 100 <= ckpt["global_step"] <= summary["global_steps"]
    assert all(torch.isfinite(t).all() for t in ckpt["model"].values())


def test_a_stuck_worker_is_reported_by_the_heartbeat(run_dir: Path):
    proc = run_cli("env=gym", "env.id=benchmarks.fault_envs:HangingCartPole-v0", "total_steps=1000000",
                   "runtime.heartbeat_timeout_s=5", "runtime.join_timeout_s=2", f"hydra.run.dir={run_dir}",
                   timeout=120)
    assert proc.returncode == 1
    assert "sent nothing for" in proc.stderr and "heartbeat_timeout_s=5" in proc.stderr
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "failed"


def test_an_unwritable_run_directory_fails_cleanly_and_keeps_the_checkpoint(tmp_path: Path):
    run_dir = tmp_path / "run"
    proc = run_cli("total_steps=2000", "eval.episodes=0", f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    before = load_checkpoint(run_dir / "checkpoint.pt")
    # The disk fills up: every write to these files now fails with ENOSPC.
    (run_dir / "metrics.jsonl").unlink()
    (run_dir / "metrics.jsonl").symlink_to("/dev/full")
    (run_dir / "checkpoint.pt.tmp").symlink_to("/dev/full")
    proc = run_cli(f"resume={run_dir}", "total_steps=100000", timeout=120)
    assert proc.returncode == 1
    assert "cannot write the run directory" in proc.stderr and "No space left" in proc.stderr
    assert "Traceback" not in proc.stderr
    after = load_checkpoint(run_dir / "checkpoint.pt")  # untouched and still readable
    assert after["global_step"] == before["global_step"]


def test_a_directory_that_fails_mid_run_stops_the_workers_with_a_clear_error(tmp_path: Path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    # The disk is full by the first periodic checkpoint: its temporary file cannot be written.
    (run_dir / "checkpoint.pt.tmp").symlink_to("/dev/full")
    proc = run_cli("total_steps=1000000", "checkpoint.interval=1000", f"hydra.run.dir={run_dir}", timeout=120)
    assert proc.returncode == 1
    assert "cannot write the run directory" in proc.stderr and "Traceback" not in proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and "No space left" in summary["error"]
    assert not (run_dir / "checkpoint.pt").exists()  # nothing written from a failed run
