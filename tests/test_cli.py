"""`python -m asyncrl` end to end: run directory contract, sweeps, bad input, faults."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import asyncrl
from asyncrl.checkpoint import load_checkpoint
from benchmarks.bad_inputs import BAD_INPUTS
from tests.conftest import ROOT, read_jsonl, run_cli

EPISODE_KEYS = {"global_step", "frames", "wall_s", "worker", "episode_return", "episode_length"}
SUMMARY_KEYS = {"algo", "env", "optim", "workers", "seed", "global_steps", "frames", "wall_s", "steps_per_s",
                "final_eval_return", "best_eval_return", "status", "finished"}


@pytest.mark.parametrize("runtime", ["processes", "threads"])
def test_short_run_writes_the_contracted_files(run_dir: Path, runtime: str):
    proc = run_cli(f"runtime={runtime}", "total_steps=3000", "eval.episodes=2", "stop_when_solved=false",
                   f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    assert f"run directory: {run_dir}" in proc.stdout
    records = read_jsonl(run_dir / "metrics.jsonl")
    episodes = [r for r in records if r["type"] == "episode"]
    assert episodes and all(EPISODE_KEYS <= r.keys() for r in episodes)
    assert {r["worker"] for r in episodes} == {0, 1}
    assert all(r["frames"] == r["global_step"] for r in episodes)  # CartPole: 1 frame per step
    assert len([r for r in records if r["type"] == "worker"]) == 2

    summary = json.loads((run_dir / "summary.json").read_text())
    assert SUMMARY_KEYS <= summary.keys()
    assert summary["status"] == "finished" and summary["finished"] is True
    assert summary["workers"] == 2 and summary["algo"] == "a3c" and summary["runtime"] == runtime
    # The budget stops every worker: at most one partial segment each beyond it.
    assert 3000 <= summary["global_steps"] < 3000 + 2 * 5
    assert summary["final_eval_return"] is not None

    ckpt = load_checkpoint(run_dir / "checkpoint.pt")
    assert ckpt["global_step"] == summary["global_steps"]
    assert ckpt["config"]["algo"]["name"] == "a3c"
    assert all(isinstance(t, torch.Tensor) for t in ckpt["optim_state"])
    assert (run_dir / ".hydra" / "config.yaml").exists()


def test_time_limit_stops_a_run_as_finished(run_dir: Path):
    proc = run_cli("total_steps=100000000", "stop_when_solved=false", "time_limit_s=6", "eval.episodes=1",
                   f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["time_limit_reached"] is True
    assert summary["global_steps"] < 100_000_000
    assert summary["final_eval_return"] is not None  # a time-limited run is evaluated like a finished one
    assert load_checkpoint(run_dir / "checkpoint.pt")["global_step"] == summary["global_steps"]


def test_multirun_gives_one_directory_per_job(tmp_path: Path):
    sweep = tmp_path / "sweep"
    proc = run_cli("-m", "seed=0,1", "runtime=threads", "total_steps=1000", "eval.episodes=1",
                   f"hydra.sweep.dir={sweep}")
    assert proc.returncode == 0, proc.stderr
    seeds = sorted(json.loads((d / "summary.json").read_text())["seed"] for d in sweep.iterdir() if d.is_dir())
    assert seeds == [0, 1]


def test_multirun_of_all_four_algorithms(tmp_path: Path):
    sweep = tmp_path / "sweep"
    # Threads: the sweep, not the worker processes, is under test here (test_short_run_... runs both).
    proc = run_cli("-m", "algo=one_step_q,one_step_sarsa,nstep_q,a3c", "env=cartpole", "runtime=threads",
                   "total_steps=2500", "eval.episodes=1", f"hydra.sweep.dir={sweep}", timeout=300)
    assert proc.returncode == 0, proc.stderr
    runs = {}
    for d in sweep.iterdir():
        if d.is_dir():
            runs[json.loads((d / "summary.json").read_text())["algo"]] = d
    assert sorted(runs) == ["a3c", "nstep_q", "one_step_q", "one_step_sarsa"]
    for algo, d in runs.items():
        summary = json.loads((d / "summary.json").read_text())
        assert summary["status"] == "finished" and summary["global_steps"] >= 2500
        workers = [r for r in read_jsonl(d / "metrics.jsonl") if r["type"] == "worker"]
        if algo == "a3c":
            assert summary["target_syncs"] is None
            continue
        # conf/tuned/<algo>_cartpole.yaml: its target interval, finals from {0.01, 0.02, 0.05}
        interval = load_checkpoint(d / "checkpoint.pt")["config"]["algo"]["target_interval"]
        assert interval in (500, 1000)
        assert summary["target_syncs"] == summary["global_steps"] // interval
        assert {w["final_epsilon"] for w in workers} <= {0.01, 0.02, 0.05}
        assert len(workers) == 2




@pytest.mark.parametrize(("override", "key"), BAD_INPUTS)
def test_bad_input_is_one_clear_config_error(override: str, key: str):
    # In-process: the command line validates every job through make_config before Hydra starts.
    with pytest.raises(asyncrl.ConfigError) as info:
        asyncrl.make_config(*override.split())
    assert key in str(info.value) and "\n" not in str(info.value)


# One of each kind through the real command line: a bad value, an undeclared key (+ and ++),
# a missing option, an env that does not exist, an algorithm that cannot act in it, a bad resume.
CLI_CASES = ["workers=0", "+no_such_key=1", "++algo.no_such_key=1", "optim=adam", "env=gym env.id=NoSuchEnv-v0",
             "algo=one_step_q env=pendulum", "resume=/nonexistent/run"]


@pytest.mark.parametrize(("override", "key"), [case for case in BAD_INPUTS if case[0] in CLI_CASES])
def test_bad_input_is_one_clear_line_and_starts_nothing(run_dir: Path, override: str, key: str):
    proc = run_cli(*override.split(), f"hydra.run.dir={run_dir}", timeout=60)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: "), proc.stderr
    assert key in proc.stderr
    assert not run_dir.exists()  # nothing started


@pytest.mark.parametrize(("env", "name", "extra"), [("env=gym env.id=LunarLander-v3", "Box2D", "box2d"),
                                                    ("env=gym env.id=CarRacing-v3", "Box2D", "box2d"),
                                                    ("env=inverted_pendulum", "MuJoCo", "mujoco")])
def test_an_env_whose_simulator_is_not_installed_names_asyncrls_extra(tmp_path: Path, env: str, name: str,
                                                                       extra: str):
    # The simulator's module shadowed by one that fails to import, as when it is not installed.
    for module in ("Box2D", "mujoco"):
        (tmp_path / module).mkdir()
        (tmp_path / module / "__init__.py").write_text("raise ImportError('not installed (a test)')\n")
    run_dir = tmp_path / "run"
    proc = run_cli(*env.split(), f"hydra.run.dir={run_dir}", env={"PYTHONPATH": f"{tmp_path}:{ROOT}"}, timeout=60)
    env_id = {"box2d": env.split("=")[-1], "mujoco": "InvertedPendulum-v5"}[extra]
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        f"error: env.id='{env_id}': needs {name}, which is not installed: pip install 'asyncrl[{extra}]'"]
    assert not run_dir.exists()


def test_a_sweep_with_one_bad_job_starts_no_job(tmp_path: Path):
    sweep = tmp_path / "sweep"
    proc = run_cli("-m", "algo=a3c,nstep_q", "algo.entropy_beta=0.02", "total_steps=500",
                   f"hydra.sweep.dir={sweep}", timeout=60)
    assert proc.returncode == 2 and proc.stderr.strip() == (
        "error: algo.entropy_beta: not a config option (no schema declares it)")
    assert not sweep.exists()


@pytest.mark.parametrize("flags", [["--cfg", "job"], ["--cfg", "all", "--resolve"], ["-c", "job", "-p", "algo"]])
def test_printing_the_config_validates_it_first(flags: list[str]):
    for bad, line in (("algo.t_max=0", "error: algo.t_max=0: must be >= 1"),
                      ("algo.gae_lambda=1.5", "error: algo.gae_lambda: not a config option (no schema declares it)")):
        proc = run_cli(*flags, bad, timeout=60)
        assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [line] and proc.stdout == ""
    shown = run_cli(*flags, "algo.t_max=7", timeout=60)
    assert shown.returncode == 0 and "t_max: 7" in shown.stdout, shown.stderr


def test_a_command_line_run_finalizes_its_config_once(tmp_path: Path):
    """Validated once before Hydra starts, then trained as validated (also each job of a sweep)."""
    count = ("import sys\nimport asyncrl.build as b\nn = [0]\nmerge = b._merge_and_check\n"
             "def counted(cfg):\n    n[0] += 1\n    return merge(cfg)\n"
             "b._merge_and_check = counted\nfrom asyncrl.cli import main\ncode = main(sys.argv[1:])\n"
             "print('finalized', n[0])\nsys.exit(code)\n")
    quick = ["runtime=threads", "workers=1", "total_steps=300", "eval.episodes=1", "progress=off"]
    for args, jobs in (([f"hydra.run.dir={tmp_path / 'run'}"], 1),
                       (["-m", "seed=0,1", f"hydra.sweep.dir={tmp_path / 'sweep'}"], 2)):
        proc = subprocess.run([sys.executable, "-c", count, *args, *quick], cwd=ROOT, capture_output=True, text=True,
                              timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip().splitlines()[-1] == f"finalized {jobs}"


def test_help_names_the_app_and_lists_only_real_options():
    proc = run_cli("--help", timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("asyncrl:")
    assert "__main__" not in proc.stdout and "_schema" not in proc.stdout
    assert "algo     a3c*, nstep_q, one_step_q, one_step_sarsa" in proc.stdout
    assert "optim    rmsprop, rmsprop_shared*, sgd_momentum" in proc.stdout
    assert "total_steps=300000" in proc.stdout


def test_worker_error_fails_the_run_with_its_traceback(run_dir: Path):
    proc = run_cli("env=gym", "env.id=benchmarks.fault_envs:FaultyCartPole-v0", "total_steps=1000000",
                   f"hydra.run.dir={run_dir}", timeout=120)
    assert proc.returncode == 1
    assert "injected fault in env.step" in proc.stderr
    assert "worker" in proc.stderr and "Traceback" in proc.stderr  # the worker's own traceback
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and "injected fault" in summary["error"]
    assert (run_dir / "metrics.jsonl").exists()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _worker_processes(pid: int) -> list[int]:
    """The spawned worker processes among ``pid``'s children (not the resource tracker)."""
    return [child for child in _children(pid) if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]


def _start_long_run(run_dir: Path, wait_for_metrics: bool = True) -> subprocess.Popen:
    """A training run with a huge budget, returned once its workers have reported.

    With ``wait_for_metrics=False`` it returns as soon as both worker
    processes exist, while they are still starting up.
    """
    # Default SIGINT handling in the run even when pytest itself was started in the background
    # of a non-interactive shell, which ignores SIGINT for its children.
    proc = subprocess.Popen([sys.executable, "-m", "asyncrl", "total_steps=100000000", "stop_when_solved=false",
                             f"hydra.run.dir={run_dir}"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    metrics = run_dir / "metrics.jsonl"

    def ready() -> bool:
        if wait_for_metrics:
            return metrics.exists() and metrics.stat().st_size > 2000
        return len(_worker_processes(proc.pid)) == 2

    deadline = time.monotonic() + 300  # a wait for a state, not a speed claim
    while time.monotonic() < deadline and not ready():
        time.sleep(0.01)
    return proc


def test_sigint_stops_cleanly_and_writes_summary(run_dir: Path):
    proc = _start_long_run(run_dir)
    workers = _children(proc.pid)
    assert workers, "workers should be running"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["global_steps"] > 0
    assert load_checkpoint(run_dir / "checkpoint.pt")["global_step"] == summary["global_steps"]
    assert not _still_running(workers), "worker processes left behind"


def _running(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _still_running(pids: list[int], wait_s: float = 60.0) -> list[int]:
    """The pids still running after up to ``wait_s`` (helpers exit just after the main process).

    Returns as soon as none runs: the wait is long so that a busy machine cannot fail it.
    """
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and any(_running(pid) for pid in pids):
        time.sleep(0.1)
    return [pid for pid in pids if _running(pid)]


def test_a_worker_killed_by_sigkill_fails_the_run(run_dir: Path):
    proc = _start_long_run(run_dir)
    metrics = run_dir / "metrics.jsonl"
    workers = _worker_processes(proc.pid)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)  # as the OOM killer would
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "died with exit code -9" in err
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and "exit code -9" in summary["error"]
    assert metrics.stat().st_size > 2000  # what was written is kept
    assert not _still_running(workers), "worker processes left behind"


@pytest.mark.parametrize("learning", [True, False], ids=["while learning", "while starting up"])
def test_workers_exit_when_the_main_process_is_killed(run_dir: Path, learning: bool):
    proc = _start_long_run(run_dir, wait_for_metrics=learning)
    workers = _worker_processes(proc.pid)
    assert len(workers) == 2
    proc.kill()  # SIGKILL: no handler runs in the main process
    proc.communicate(timeout=30)
    assert not _still_running(workers), "orphaned workers kept running"


def test_sigterm_stops_cleanly_with_checkpoint_and_summary(run_dir: Path):
    proc = _start_long_run(run_dir)
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert load_checkpoint(run_dir / "checkpoint.pt")["global_step"] == summary["global_steps"]
    assert not _still_running(workers), "worker processes left behind"


def test_a_second_sigint_forces_the_exit(run_dir: Path):
    proc = _start_long_run(run_dir)
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert not _still_running(workers), "worker processes left behind"


def test_a_key_no_schema_declares_in_a_preset_file_is_refused_in_one_line(tmp_path: Path):
    presets = tmp_path / "presets"
    (presets / "tuned").mkdir(parents=True)
    # A combination the package has no preset for (a packaged file would take precedence).
    (presets / "tuned" / "nstep_q_gym.yaml").write_text("# @package _global_\nalgo:\n  entropy_betta: 0.1\n")
    run_dir = tmp_path / "run"
    proc = run_cli("algo=nstep_q", "env=gym", "env.id=Acrobot-v1", f"hydra.searchpath=[file://{presets}]",
                   f"hydra.run.dir={run_dir}", timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: algo.entropy_betta: not a config option (no schema declares it)"
    assert not (run_dir / "metrics.jsonl").exists()
