"""runtime=ray on a real two-node Ray cluster on this machine (ray.cluster_utils.Cluster, small object stores).

One cluster serves every test of this module; each run is the real command
line joining it with runtime.address. Each node has one CPU, so two groups of
one worker land on two nodes.
"""

from __future__ import annotations

import hashlib
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
from asyncrl.config import RuntimeConfig
from tests.conftest import ROOT, read_jsonl, run_cli

ray_cluster_utils = pytest.importorskip("ray.cluster_utils", reason="runtime=ray needs the ray extra")
from asyncrl.runtime.ray.semaphores import (  # noqa: E402 - the ray package needs ray
    name_semaphores,
    semaphore_files,
)

STORE = 80 * 2**20  # Ray's smallest object store
pytestmark = pytest.mark.xdist_group("ray")  # one cluster, in one xdist worker


@pytest.fixture(scope="module")
def cluster() -> str:
    """A head node and a second node, one CPU each; their address."""
    nodes = ray_cluster_utils.Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "object_store_memory": STORE, "include_dashboard": False})
    nodes.add_node(num_cpus=1, object_store_memory=STORE)
    nodes.wait_for_nodes()
    yield nodes.address
    nodes.shutdown()


def ray_run(cluster: str, run_dir: Path, *overrides: str, timeout: float = 300,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return run_cli("runtime=ray", f"runtime.address={cluster}", "progress=off", *overrides,
                   f"hydra.run.dir={run_dir}", timeout=timeout, env=env)


def records(run_dir: Path, kind: str) -> list[dict]:
    return [r for r in read_jsonl(run_dir / "metrics.jsonl") if r["type"] == kind]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def assert_no_semaphore_left(run_dir: Path, incarnations: int) -> None:
    """Every group incarnation made semaphores under a prefix of its own, and none is left in /dev/shm."""
    starts = records(run_dir, "group_start")
    prefixes = {r["semaphore_prefix"] for r in starts}
    assert len(starts) == len(prefixes) == incarnations and all(r["semaphores"] > 0 for r in starts)
    runs = {prefix.split("-g")[0] + "-" for prefix in prefixes}  # asyncrl-<run id>-
    assert len(runs) == 1 and semaphore_files(runs.pop()) == []


SEMAPHORE_SCRIPT = """
import json, multiprocessing, os, sys
from asyncrl.runtime.ray.semaphores import name_semaphores, remove_semaphores, semaphore_files
group = sys.argv[1]
ctx = multiprocessing.get_context("spawn")
name_semaphores(group + "i10-")
later = ctx.Queue()
name_semaphores(group + "i1-")
queue, counter = ctx.Queue(), ctx.Value("q", 0)
made, made_later = semaphore_files(group + "i1-"), semaphore_files(group + "i10-")
removed = remove_semaphores(group + "i1-")
with counter.get_lock():
    counter.value += 1
queue.put("still works")
out = {"made": made, "made_later": made_later, "removed": removed, "left": semaphore_files(group),
       "got": queue.get(timeout=10), "counter": counter.value, "removed_later": remove_semaphores(group)}
print(json.dumps(out))
os._exit(0)  # as Ray's kill: no finalizer runs (they would unlink the removed names again)
"""


def test_semaphores_take_the_prefix_and_their_removal_leaves_them_working():
    group = f"asyncrl-test{os.getpid()}-g0-"
    proc = subprocess.run([sys.executable, "-c", SEMAPHORE_SCRIPT, group], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["made"] and all(Path(path).name.startswith(f"sem.{group}i1-") for path in out["made"])
    assert out["made_later"] and not set(out["made"]) & set(out["made_later"])  # i1- is not i10-
    assert out["removed"] == len(out["made"]) and out["left"] == out["made_later"]
    assert out["got"] == "still works" and out["counter"] == 1  # unlinked names: the semaphores still work
    assert out["removed_later"] == len(out["made_later"]) and semaphore_files(group) == []
    with pytest.raises(ValueError, match="ends with '-'"):
        name_semaphores("asyncrl-run-g0-i1")


def test_two_groups_on_two_nodes_share_one_parameter_server(cluster: str, run_dir: Path):
    # How often two groups solve CartPole, and how fast, is a rate over seeds: docs/performance.md (10/10).
    proc = ray_run(cluster, run_dir, "runtime.groups=2", "workers=1", "total_steps=20000", "stop_when_solved=false",
                   "eval.episodes=1")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["runtime"] == "ray"
    groups = records(run_dir, "group_summary")
    assert sorted(g["group"] for g in groups) == [0, 1] and len({g["node"] for g in groups}) == 2  # one per node
    assert sum(g["steps"] for g in groups) == summary["global_steps"]  # the global step is the groups' sum
    # Each episode says where it was played. (Whether both groups finish one depends on how soon each
    # starts, which is the machine's business: placement is read from the group records above.)
    episodes = records(run_dir, "episode")
    assert episodes and all(r["group"] in (0, 1) and r["node"] in {g["node"] for g in groups} for r in episodes)
    server = records(run_dir, "parameter_server")[-1]
    assert server["global_step"] == summary["global_steps"] and server["bytes_in"] > 0
    saved = load_checkpoint(run_dir / "checkpoint.pt")
    assert saved["global_step"] == summary["global_steps"]
    flat = torch.cat([t.reshape(-1) for t in saved["model"].values()]).numpy()
    assert hashlib.sha256(flat.tobytes()).hexdigest() == server["params_sha256"]  # the server's parameters
    assert_no_semaphore_left(run_dir, incarnations=2)  # Ray kills the groups at the end: the driver cleans up


def test_the_value_learners_run_and_target_syncs_are_exact(cluster: str, tmp_path: Path):
    """About 30 s: three runs of two groups each. A3C runs in every other test of this module."""
    for algo in ("nstep_q", "one_step_q", "one_step_sarsa"):
        run = tmp_path / algo
        proc = ray_run(cluster, run, f"algo={algo}", "runtime.groups=2", "workers=1", "runtime.sync_interval=100",
                       "total_steps=4000", "stop_when_solved=false", "eval.episodes=1", "algo.target_interval=500")
        assert proc.returncode == 0, proc.stderr
        summary = json.loads((run / "summary.json").read_text())
        assert summary["status"] == "finished" and summary["global_steps"] >= 4000, algo
        assert summary["target_syncs"] == summary["global_steps"] // 500, algo


def _wait_for(predicate, limit: float = 300) -> None:
    """Wait for a state (not a speed claim): returns as soon as it holds."""
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def _start_long(cluster: str, run_dir: Path, *overrides: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "asyncrl", "runtime=ray", f"runtime.address={cluster}",
                             "progress=off", "stop_when_solved=false", *overrides, f"hydra.run.dir={run_dir}"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_killed_group_is_restarted_and_the_run_goes_on(cluster: str, run_dir: Path):
    """About 25 s: the budget must outlast the restart (a new actor process and its worker start up), so that
    the restarted group plays again before the other group alone spends the budget."""
    proc = _start_long(cluster, run_dir, "runtime.groups=2", "workers=1", "total_steps=60000", "eval.episodes=0")
    metrics = run_dir / "metrics.jsonl"
    _wait_for(lambda: metrics.exists() and len(records(run_dir, "episode")) >= 20)
    group0 = next(r for r in records(run_dir, "group_start") if r["group"] == 0)
    before = read_jsonl(metrics)
    os.kill(group0["pid"], signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    after = read_jsonl(metrics)
    assert after[: len(before)] == before  # nothing written is lost
    restarts = records(run_dir, "group_restart")
    assert [(r["group"], r["restarts"]) for r in restarts] == [(0, 1)]
    starts = [r for r in records(run_dir, "group_start") if r["group"] == 0]
    assert [r["incarnation"] for r in starts] == [0, 1] and starts[1]["pid"] != group0["pid"]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["global_steps"] >= 60000
    assert any(r["group"] == 0 and r["global_step"] > restarts[0]["global_step"] for r in records(run_dir, "episode"))
    assert_no_semaphore_left(run_dir, incarnations=3)  # the killed incarnation's too


def test_ctrl_c_writes_checkpoint_and_summary_and_leaves_no_process(cluster: str, run_dir: Path):
    proc = _start_long(cluster, run_dir, "runtime.groups=2", "workers=1", "total_steps=100000000",
                       "eval.episodes=0")
    _wait_for(lambda: (run_dir / "metrics.jsonl").exists() and len(records(run_dir, "group_workers")) >= 2
              and len(records(run_dir, "episode")) >= 10)
    pids = [r["pid"] for r in records(run_dir, "group_start")]
    pids += [pid for r in records(run_dir, "group_workers") for pid in r["pids"]]
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert load_checkpoint(run_dir / "checkpoint.pt")["global_step"] == summary["global_steps"]
    _wait_for(lambda: not any(alive(pid) for pid in pids))  # groups and their worker processes
    assert_no_semaphore_left(run_dir, incarnations=2)


def test_one_group_keeps_the_run_directory_contract(cluster: str, tmp_path: Path):
    runs = {}
    for runtime in ("processes", "ray"):
        run = tmp_path / runtime
        args = ("workers=1", "total_steps=3000", "stop_when_solved=false", "eval.episodes=2", "progress=off")
        proc = ray_run(cluster, run, *args) if runtime == "ray" else run_cli(*args, f"hydra.run.dir={run}")
        assert proc.returncode == 0, proc.stderr
        runs[runtime] = run
    files = {r: sorted(p.name for p in run.iterdir()) for r, run in runs.items()}
    assert files["ray"] == files["processes"]
    keys = {r: set(json.loads((run / "summary.json").read_text())) for r, run in runs.items()}
    assert keys["ray"] == keys["processes"]
    episode = {r: set(records(run, "episode")[0]) for r, run in runs.items()}
    assert episode["ray"] == episode["processes"] | {"group", "node"}


def test_resume_continues_under_ray(cluster: str, run_dir: Path):
    proc = ray_run(cluster, run_dir, "workers=1", "total_steps=3000", "stop_when_solved=false", "eval.episodes=0")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli(f"resume={run_dir}", "total_steps=6000", f"runtime.address={cluster}", timeout=300)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["resumes"] == 1 and summary["global_steps"] >= 6000 and summary["runtime"] == "ray"


@pytest.mark.parametrize(("overrides", "message"), [
    (["runtime.address=127.0.0.1:9"], "runtime.address='127.0.0.1:9': cannot reach a Ray cluster there"),
    (["runtime.groups=3", "workers=1"], "runtime.groups=3 x workers=1: each group needs 1 CPUs on one node, the "
                                        "cluster's nodes have 1, 1 CPUs, room for 2 group(s)"),
    (["runtime.groups=1", "workers=2"], "runtime.groups=1 x workers=2: each group needs 2 CPUs on one node, the "
                                        "cluster's nodes have 1, 1 CPUs, room for 0 group(s)"),
])
def test_bad_cluster_input_is_one_line(cluster: str, run_dir: Path, overrides: list[str], message: str):
    address = [] if any(o.startswith("runtime.address") for o in overrides) else [f"runtime.address={cluster}"]
    proc = run_cli("runtime=ray", *overrides, *address, f"hydra.run.dir={run_dir}", timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"error: {message}"), proc.stderr
    assert not (run_dir / "metrics.jsonl").exists()


def test_runtime_ray_without_ray_installed_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    with pytest.raises(asyncrl.ConfigError, match=r"^runtime=ray: Ray is not installed; pip install 'asyncrl\[ray\]'"):
        RuntimeConfig(kind="ray").check()


def test_a_sweep_runs_on_the_cluster_through_hydras_ray_launcher(cluster: str, tmp_path: Path):
    sweep = tmp_path / "sweep"
    # asyncrl's launcher option: the plugin's own would set an object store size, which Ray refuses when
    # joining a running cluster. (Its address is `auto`; this test names the test cluster's.)
    proc = run_cli("-m", "hydra/launcher=ray_cluster", f"hydra.launcher.ray.init.address={cluster}", "seed=0,1",
                   "workers=1", "total_steps=1500", "eval.episodes=1", "progress=off", f"hydra.sweep.dir={sweep}",
                   timeout=300)
    assert proc.returncode == 0, proc.stderr
    seeds = sorted(json.loads((d / "summary.json").read_text())["seed"] for d in sweep.iterdir() if d.is_dir())
    assert seeds == [0, 1]


# A local Ray instance with token authentication, as an owner starts one: ray.init writes the owner's token
# to ~/.ray/auth_token. It runs until its stdin closes.
TOKEN_HEAD = """
import sys, ray
ray.init(address="local", num_cpus=1, object_store_memory=int(sys.argv[1]), include_dashboard=False)
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.read()
ray.shutdown()
"""


@pytest.fixture
def token_cluster(tmp_path: Path) -> tuple[str, Path]:
    """A cluster with RAY_AUTH_MODE=token; its address and its owner's home directory (which holds the token)."""
    owner = tmp_path / "owner"
    owner.mkdir()
    head = subprocess.Popen([sys.executable, "-c", TOKEN_HEAD, str(STORE)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "HOME": str(owner), "RAY_AUTH_MODE": "token"})
    address = head.stdout.readline().strip()
    yield address, owner
    head.stdin.close()
    head.wait(timeout=60)


def test_a_cluster_with_token_authentication_takes_only_machines_holding_its_token(token_cluster, tmp_path: Path):
    from asyncrl.runtime.ray.driver import TOKEN_HELP

    address, owner = token_cluster
    token = (owner / ".ray" / "auth_token").read_text().strip()
    stranger = {"HOME": str(tmp_path / "stranger")}  # a machine without the token
    refused = "the Ray cluster refused this machine (Authentication token is missing or incorrect)"

    proc = run_cli("runtime=ray", f"runtime.address={address}", f"hydra.run.dir={tmp_path / 'run'}", env=stranger,
                   timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == f"error: runtime.address='{address}': {refused}; {TOKEN_HELP}"
    assert not (tmp_path / "run" / "metrics.jsonl").exists()

    sweep = tmp_path / "sweep"
    proc = run_cli("-m", "hydra/launcher=ray_cluster", f"hydra.launcher.ray.init.address={address}", "seed=0,1",
                   f"hydra.sweep.dir={sweep}", env=stranger, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == f"error: hydra.launcher.ray.init.address='{address}': {refused}; {TOKEN_HELP}"
    assert not sweep.exists()

    # Token mode with no token at all: Ray's own reason, in the same one line.
    proc = run_cli("runtime=ray", f"runtime.address={address}", f"hydra.run.dir={tmp_path / 'run'}",
                   env={**stranger, "RAY_AUTH_MODE": "token"}, timeout=60)
    assert proc.returncode == 2 and proc.stderr.strip().startswith(
        f"error: runtime.address='{address}': the Ray cluster refused this machine (Token authentication is "
        "enabled but no authentication token was found)"), proc.stderr

    # Given the token (here in RAY_AUTH_TOKEN, as a secrets manager would), the same machine trains on it.
    run_dir = tmp_path / "run"
    proc = ray_run(address, run_dir, "workers=1", "total_steps=1500", "eval.episodes=1",
                   env={**stranger, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token})
    assert proc.returncode == 0, proc.stderr
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "finished"
