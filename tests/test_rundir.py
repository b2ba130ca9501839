"""One run per directory: a run holds its directory while it trains, and no run writes over another."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import asyncrl
from asyncrl.rundir import LOCK, RunDirectoryError
from tests.conftest import ROOT, read_jsonl, run_cli

SHORT = ("workers=1", "runtime=threads", "total_steps=1000", "eval.episodes=0", "progress=off")


def contents(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory``, by relative path."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def finished_run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    proc = run_cli(*SHORT, "seed=1", f"hydra.run.dir={run}")
    assert proc.returncode == 0, proc.stderr
    assert not (run / LOCK).exists()  # released at the end: the run directory's files are as before
    return run


def test_a_fresh_run_into_a_directory_holding_a_run_is_refused_and_changes_nothing(finished_run: Path):
    before = contents(finished_run)
    proc = run_cli(*SHORT, "seed=2", f"hydra.run.dir={finished_run}")
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        f"error: {finished_run} holds a run already: resume={finished_run} continues it, overwrite=true replaces "
        "it (its files are deleted), or give another hydra.run.dir"]
    assert contents(finished_run) == before  # .hydra/config.yaml included
    with pytest.raises(RunDirectoryError, match="holds a run already"):  # from code too, and a ConfigError
        asyncrl.train(asyncrl.make_config(*SHORT, "seed=2"), finished_run)
    assert contents(finished_run) == before


def test_overwrite_true_replaces_the_earlier_run(finished_run: Path):
    proc = run_cli(*SHORT, "seed=2", "overwrite=true", f"hydra.run.dir={finished_run}")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((finished_run / "summary.json").read_text())["seed"] == 2
    assert "seed: 2" in (finished_run / ".hydra" / "config.yaml").read_text()
    # The old records are gone, not appended to: one worker record, of the new run.
    assert len([r for r in read_jsonl(finished_run / "metrics.jsonl") if r["type"] == "worker"]) == 1
    result = asyncrl.train(asyncrl.make_config(*SHORT, "seed=3", "overwrite=true"), finished_run)
    assert result.summary["seed"] == 3 and "seed: 3" in (finished_run / ".hydra" / "config.yaml").read_text()


def test_resume_is_not_refused(finished_run: Path):
    proc = run_cli(f"resume={finished_run}", "total_steps=2000")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((finished_run / "summary.json").read_text())["resumes"] == 1


def test_a_second_run_into_a_directory_in_use_is_refused_naming_the_pid(tmp_path: Path):
    run = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "asyncrl", "workers=1", "total_steps=100000000",
                              "stop_when_solved=false", "progress=off", f"hydra.run.dir={run}"], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300  # a wait for a state, not a speed claim
        while not (run / "metrics.jsonl").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (run / LOCK).read_text().split()[0] == str(first.pid)
        for overrides in ([], ["overwrite=true"]):  # overwriting a run that is training is refused too
            proc = run_cli(*SHORT, *overrides, f"hydra.run.dir={run}")
            assert proc.returncode == 2
            assert proc.stderr.strip().splitlines() == [
                f"error: {run}: another run (pid {first.pid} on {os.uname().nodename}) is training in this "
                "directory; wait for it to end, or give this run another hydra.run.dir"]
        with pytest.raises(RunDirectoryError, match=f"pid {first.pid}"):
            asyncrl.train(asyncrl.make_config(*SHORT), run)
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=120)
    assert first.returncode == 130
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["workers"] == 1  # the first run's, untouched
    assert not (run / LOCK).exists()


def test_the_lock_of_a_run_that_no_longer_exists_is_taken_over(tmp_path: Path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    run = tmp_path / "run"
    run.mkdir()
    (run / LOCK).write_text(f"{gone.pid} {os.uname().nodename}\n")
    proc = run_cli(*SHORT, f"hydra.run.dir={run}")
    assert proc.returncode == 0, proc.stderr
    assert f"warning: {run}: took over the lock of pid {gone.pid}, which is no longer running" in proc.stderr
    assert not (run / LOCK).exists()


def test_a_sweep_into_a_sweep_directory_holding_runs_starts_no_job(tmp_path: Path):
    sweep = tmp_path / "sweep"
    proc = run_cli("-m", "seed=0,1", *SHORT, f"hydra.sweep.dir={sweep}")
    assert proc.returncode == 0, proc.stderr
    before = contents(sweep)
    proc = run_cli("-m", "seed=5,6", *SHORT, f"hydra.sweep.dir={sweep}")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith(f"error: {sweep / '0'} holds a run already")
    assert contents(sweep) == before
    # A subdir of one's own is resolved by Hydra only as each job starts: the whole sweep is refused now.
    proc = run_cli("-m", "seed=0,1", *SHORT, f"hydra.sweep.dir={sweep}", "hydra.sweep.subdir=${hydra.job.num}")
    assert proc.returncode == 2 and proc.stderr.strip() == (
        f"error: {sweep} holds runs already, and hydra.sweep.subdir=${{hydra.job.num}} names each job's directory "
        "only as it starts: give another hydra.sweep.dir (or overwrite=true to replace them)")
    assert contents(sweep) == before
    fresh = tmp_path / "fresh"  # into a new sweep directory, such a subdir is fine
    proc = run_cli("-m", "seed=0,1", *SHORT, f"hydra.sweep.dir={fresh}", "hydra.sweep.subdir=seed${seed}")
    assert proc.returncode == 0, proc.stderr
    assert sorted(d.name for d in fresh.iterdir() if d.is_dir()) == ["seed0", "seed1"]


@pytest.mark.parametrize("where", ["/proc/asyncrl-run", "/sys/asyncrl/run", "FILE/run"])
def test_an_output_directory_that_cannot_be_written_is_one_line(tmp_path: Path, where: str):
    afile = tmp_path / "a-file"
    afile.write_text("")
    run = Path(where.replace("FILE", str(afile)))
    proc = run_cli(*SHORT, f"hydra.run.dir={run}")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith(f"error: hydra.run.dir='{run}': cannot create or write a directory there (")
    proc = run_cli("-m", "seed=0,1", *SHORT, f"hydra.sweep.dir={run}")
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: hydra.sweep.dir='{run}': cannot create")
    with pytest.raises(RunDirectoryError, match=r"^run_dir='.*': cannot create or write a directory there"):
        asyncrl.train(asyncrl.make_config(*SHORT), run)
