"""Throughput against this machine's ceiling: agent steps/s, frames/s, scaling.

For one env, algorithm, runtime and list of worker counts, this runs real
training (``python -m asyncrl``) and measures agent steps/s over a fixed
window after a warm-up, from the run's own progress records, several times
(median and range). In the same invocation it measures the ceiling of this
machine for the same configuration, in one process with one torch thread:

    env     seconds per agent step of the env stack alone (random actions)
    act     seconds of one batched acting forward, per agent step
    update  seconds of one segment update (copy the shared parameters in, loss
            forward and backward over the segment, clip, shared optimizer
            step), per agent step of the segment

    ceiling = min(workers, cores) / (env + act + update)

so achieved / ceiling says how much of the hardware the runtime wastes on
everything else (queues, the main process, Python glue, cache contention).
It also reports scaling (W workers over 1 worker), the main process's CPU
share and each worker's peak RSS.

With ``--independent`` it also runs, for each W > 1, W unrelated one-worker
runs at the same time (nothing shared between them) and reports their summed
rate. That separates what W processes cost each other on this hardware
(caches, memory bandwidth, clock) from what sharing parameters and optimizer
statistics costs (Hogwild's cache-line traffic, the global counter).

    python benchmarks/throughput.py --env breakout --algo a3c --workers 1 2 \\
        --seconds 30 --repeats 3 --json bench-out/throughput.json

With ``--runtime ray`` each run is ``--groups`` Hogwild groups of W workers
on Ray (a local instance, or with ``--ray-nodes N`` a local cluster of N
nodes sharing the cores), and ``--baseline processes`` measures, in the same
invocation and alternating with it, runtime=processes with groups x W
workers: ``ratio_to_baseline`` is Ray's cost. Each Ray run also reports the
bytes per second one group sends and receives (from its ``group_summary``
record) and the parameter server's exchanges per second.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- achieved rate


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _worker_pids(pid: int) -> list[int]:
    """The run's spawned worker processes (children running multiprocessing's spawn_main)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split() if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]


def _progress(metrics: Path) -> list[tuple[float, int]]:
    """(wall_s, global_step) of the run's progress records so far."""
    if not metrics.exists():
        return []
    points = []
    for line in metrics.read_text().splitlines():
        if '"progress"' in line:
            record = json.loads(line)
            points.append((record["wall_s"], record["global_step"]))
    return points


def _step_at(points: list[tuple[float, int]], wall: float) -> float:
    """The global step at ``wall`` seconds, linearly between progress records."""
    for (w0, s0), (w1, s1) in zip(points, points[1:], strict=False):
        if w0 <= wall <= w1:
            return s0 + (s1 - s0) * (wall - w0) / (w1 - w0)
    raise ValueError(f"no progress records around {wall:.1f} s")


def ray_traffic(metrics: Path) -> dict[str, float]:
    """Bytes/s one group sends and receives, and the server's exchanges/s (a Ray run's closing records)."""
    groups, server = [], None
    for line in metrics.read_text().splitlines():
        if '"group_summary"' in line or '"parameter_server"' in line:
            record = json.loads(line)
            if record["type"] == "group_summary":
                groups.append(record)
            elif record["type"] == "parameter_server":
                server = record
    if not groups or server is None:
        return {}
    wall = max(g["wall_s"] for g in groups)
    return {"group_bytes_per_s": statistics.mean(g["bytes_sent"] + g["bytes_received"] for g in groups) / wall,
            "exchanges_per_s": server["exchanges"] / wall}


def measure_run(overrides: list[str], warmup: float, seconds: float, timeout: float) -> dict[str, float]:
    """One training run: agent steps/s over [warm-up, warm-up + seconds] after its first record."""
    with tempfile.TemporaryDirectory(prefix="asyncrl-throughput-") as tmp:
        run_dir = Path(tmp) / "run"
        args = [*overrides, "total_steps=1000000000", "stop_when_solved=false", "eval.episodes=0",
                "progress=off", "runtime.report_interval_s=1", f"hydra.run.dir={run_dir}"]
        proc = subprocess.Popen([sys.executable, "-m", "asyncrl", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        start, cpu_marks, rss = time.monotonic(), {}, {}
        try:
            while True:
                time.sleep(0.25)
                if proc.poll() is not None:
                    raise RuntimeError(f"the run exited early ({proc.returncode}): {proc.stderr.read()[-2000:]}")
                if time.monotonic() - start > timeout:
                    raise RuntimeError(f"no measurement window within {timeout:.0f} s")
                points = _progress(run_dir / "metrics.jsonl")
                if not points:
                    continue
                t0 = points[0][0] + warmup
                last_wall = points[-1][0]
                if "start" not in cpu_marks and last_wall >= t0:
                    cpu_marks["start"] = (time.monotonic(), _cpu_seconds(proc.pid))
                if last_wall >= t0 + seconds + 1.0:
                    cpu_marks["end"] = (time.monotonic(), _cpu_seconds(proc.pid))
                    rss = {"workers": [_peak_rss_mib(p) for p in _worker_pids(proc.pid)],
                           "main": _peak_rss_mib(proc.pid)}
                    break
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
        points = _progress(run_dir / "metrics.jsonl")
        steps = _step_at(points, t0 + seconds) - _step_at(points, t0)
        (w0, c0), (w1, c1) = cpu_marks["start"], cpu_marks["end"]
        return {"steps_per_s": steps / seconds, "main_cpu_share": (c1 - c0) / (w1 - w0),
                "peak_rss_mib_worker": max(rss["workers"], default=float("nan")), "peak_rss_mib_main": rss["main"],
                **ray_traffic(run_dir / "metrics.jsonl")}


def measure_independent(overrides: list[str], copies: int, warmup: float, seconds: float,
                        timeout: float, seed: int = 0) -> float:
    """``copies`` one-worker runs started together, sharing nothing: their summed steps/s."""
    def one(j: int) -> dict[str, float]:
        return measure_run([*overrides, "workers=1", f"seed={seed * copies + j}"], warmup, seconds, timeout)

    with ThreadPoolExecutor(copies) as pool:
        return sum(r["steps_per_s"] for r in pool.map(one, range(copies)))


# --------------------------------------------------------------------------- ceiling


def _timed(fn: Any, seconds: float) -> float:
    """Seconds per call of ``fn``, over at least ``seconds`` (and at least 5 calls)."""
    fn()
    calls, start = 0, time.perf_counter()
    while calls < 5 or time.perf_counter() - start < seconds:
        fn()
        calls += 1
    return (time.perf_counter() - start) / calls


def measure_ceiling(overrides: list[str], seconds: float) -> dict[str, float]:
    """Per-agent-step costs of env, act and update in this process, one torch thread."""
    import numpy as np
    import torch

    from asyncrl import make_config
    from asyncrl.build import build_run
    from asyncrl.runtime.rollout import Rollout
    from asyncrl.runtime.shared import copy_parameters, create_shared_state
    from asyncrl.runtime.worker import ActorLearner, WorkerSpec

    torch.set_num_threads(1)
    parts = build_run(make_config(*overrides, "total_steps=1000000000"))
    shared = create_shared_state(parts)
    worker = ActorLearner(WorkerSpec(0, 0, parts, time.time(), main_pid=None), shared, _NullQueue())
    envs, learner, k = worker.envs, worker.learner, worker.envs.num_envs
    rng = np.random.default_rng(0)
    rollout = Rollout(envs, learner, seed=0, needs_next_action=parts.algorithm.needs_next_action)
    env_s = _timed(lambda: envs.step(rng.integers(envs.action_space.n, size=k)), seconds) / k
    obs = rollout.obs
    with torch.no_grad():
        act_s = _timed(lambda: learner.act(obs, 0), seconds) / k
    segment = rollout.collect(0)
    while len(segment) < learner.segment_length:  # a full segment, not one cut by an episode end
        segment = rollout.collect(0)

    def update() -> None:
        copy_parameters(worker.local_params, worker.shared_params)
        worker.update(segment, 0)

    update_s = _timed(update, seconds) / (len(segment) * k)
    envs.close()
    return {"env_ms": 1e3 * env_s, "act_ms": 1e3 * act_s, "update_ms": 1e3 * update_s,
            "per_worker_steps_per_s": 1.0 / (env_s + act_s + update_s),
            "frame_skip": parts.config.env.frames_per_step}


class _NullQueue:
    """Stands in for the worker's record queue while measuring in-process."""

    def put(self, record: dict[str, Any]) -> None:
        pass


def start_ray_cluster(nodes: int, cores: int) -> Any:
    """A local Ray cluster of ``nodes`` nodes, the cores split between them, small object stores."""
    from ray.cluster_utils import Cluster

    per_node = max(1, cores // nodes)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": per_node, "object_store_memory": 100 * 2**20,
                                                            "include_dashboard": False})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=per_node, object_store_memory=100 * 2**20)
    cluster.wait_for_nodes()
    return cluster


# --------------------------------------------------------------------------- report


def summarise(workers: list[int], runs: dict[int, list[dict[str, float]]], ceiling: dict[str, float],
              frame_skip: int, cores: int, independent: dict[int, list[float]] | None = None,
              baseline: dict[int, list[float]] | None = None, groups: int = 1) -> dict[str, Any]:
    """Per worker count: medians, ranges, ceiling, ratio and scaling (the JSON's content).

    ``independent`` maps W to the summed rates of W unrelated one-worker runs
    measured together (one per repeat); it adds ``independent_steps_per_s``
    and ``ratio_to_independent``. ``baseline`` maps W to the rates of the
    baseline runtime's runs (``--baseline``); it adds ``baseline_steps_per_s``
    and ``ratio_to_baseline``. With Ray ``groups``, W workers per group make
    groups x W actor-learners (what the ceiling counts).
    """
    result: dict[str, Any] = {"ceiling_components": ceiling, "cores": cores, "per_workers": {}}
    base = statistics.median(r["steps_per_s"] for r in runs[min(workers)])
    for w in workers:
        rates = [r["steps_per_s"] for r in runs[w]]
        median = statistics.median(rates)
        ceiling_rate = min(w * groups, cores) * ceiling["per_worker_steps_per_s"]
        result["per_workers"][str(w)] = {
            "steps_per_s": median, "steps_per_s_range": [min(rates), max(rates)], "steps_per_s_runs": rates,
            "frames_per_s": median * frame_skip,
            "ceiling_steps_per_s": ceiling_rate,
            "ratio_to_ceiling": median / ceiling_rate,
            "scaling": median / base,  # over the smallest worker count measured
            "main_cpu_share": statistics.median(r["main_cpu_share"] for r in runs[w]),
            "peak_rss_mib_worker": max(r["peak_rss_mib_worker"] for r in runs[w]),
            "peak_rss_mib_main": max(r["peak_rss_mib_main"] for r in runs[w]),
            "oversubscribed": w > cores,
        }
        traffic = [r["group_bytes_per_s"] for r in runs[w] if "group_bytes_per_s" in r]
        if traffic:
            result["per_workers"][str(w)].update({
                "group_bytes_per_s": statistics.median(traffic),
                "exchanges_per_s": statistics.median(r["exchanges_per_s"] for r in runs[w])})
        if baseline and w in baseline:
            result["per_workers"][str(w)].update({
                "baseline_steps_per_s": statistics.median(baseline[w]), "baseline_steps_per_s_runs": baseline[w],
                "ratio_to_baseline": median / statistics.median(baseline[w])})
        if independent and w in independent:
            together = statistics.median(independent[w])
            result["per_workers"][str(w)].update({
                "independent_steps_per_s": together, "independent_steps_per_s_runs": independent[w],
                "ratio_to_independent": median / together})
    return result


def markdown(label: str, result: dict[str, Any]) -> str:
    """The result as a markdown table, one row per worker count."""
    c = result["ceiling_components"]
    lines = [f"{label}: ceiling parts per agent step env {c['env_ms']:.3f} ms, act {c['act_ms']:.3f} ms, "
             f"update {c['update_ms']:.3f} ms ({c['per_worker_steps_per_s']:,.0f} steps/s per core)", "",
             "| workers | steps/s (median, range) | frames/s | ceiling | achieved/ceiling | scaling | "
             "main CPU | peak RSS/worker |",
             "|---|---|---|---|---|---|---|---|"]
    for w, r in result["per_workers"].items():
        lo, hi = r["steps_per_s_range"]
        note = " (oversubscribed)" if r["oversubscribed"] else ""
        lines.append(f"| {w}{note} | {r['steps_per_s']:,.0f} ({lo:,.0f}-{hi:,.0f}) | {r['frames_per_s']:,.0f} | "
                     f"{r['ceiling_steps_per_s']:,.0f} | {r['ratio_to_ceiling']:.2f} | {r['scaling']:.2f} | "
                     f"{100 * r['main_cpu_share']:.1f}% | {r['peak_rss_mib_worker']:.0f} MiB |")
    for w, r in result["per_workers"].items():
        if "ratio_to_baseline" in r:
            lines.append(f"\n{w} worker(s) per group: the baseline ran {r['baseline_steps_per_s']:,.0f} steps/s "
                         f"(median); this runtime reaches {r['ratio_to_baseline']:.2f} of it.")
        if "group_bytes_per_s" in r:
            lines.append(f"One group sends and receives {r['group_bytes_per_s'] / 1e6:.2f} MB/s in all; the "
                         f"parameter server handles {r['exchanges_per_s']:.1f} exchanges/s.")
        if "independent_steps_per_s" in r:
            lines.append(f"\n{w} unrelated one-worker runs at once: {r['independent_steps_per_s']:,.0f} steps/s in "
                         f"all; {w} workers sharing one model reach {r['ratio_to_independent']:.2f} of that.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="breakout", help="env config name (conf/env/)")
    parser.add_argument("--algo", default="a3c", help="algo config name (conf/algo/)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to measure")
    parser.add_argument("--runtime", default="processes", choices=["processes", "threads", "ray"])
    parser.add_argument("--groups", type=int, default=1, help="runtime=ray: Hogwild groups (--workers is per group)")
    parser.add_argument("--ray-nodes", type=int, default=0,
                        help="runtime=ray: start a local cluster of this many nodes sharing the cores (0: a local "
                             "instance)")
    parser.add_argument("--baseline", choices=["processes", "threads"],
                        help="also measure this runtime with groups x workers workers, alternating, in this invocation")
    parser.add_argument("--envs-per-worker", type=int, default=1, help="K environments per worker")
    parser.add_argument("--seconds", type=float, default=30.0, help="measurement window per run")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds after the first record before the window")
    parser.add_argument("--repeats", type=int, default=3, help="runs per worker count")
    parser.add_argument("--ceiling-seconds", type=float, default=5.0, help="timing per ceiling component")
    parser.add_argument("--independent", action="store_true",
                        help="also run W unrelated one-worker runs at once for each W > 1")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="extra config overrides")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--out", type=Path, help="write the markdown table here")
    args = parser.parse_args()

    common = [f"algo={args.algo}", f"env={args.env}", f"envs_per_worker={args.envs_per_worker}", *args.set]
    base = [*common, f"runtime={args.runtime}"]
    cluster = None
    if args.runtime == "ray":
        base.append(f"runtime.groups={args.groups}")
        if args.ray_nodes:
            cluster = start_ray_cluster(args.ray_nodes, os.cpu_count() or 1)
            base.append(f"runtime.address={cluster.address}")
    cores = os.cpu_count() or 1
    ceiling = measure_ceiling(common, args.ceiling_seconds)
    runs: dict[int, list[dict[str, float]]] = {}
    baseline: dict[int, list[float]] = {}
    timeout = args.warmup + args.seconds + 180
    for w in args.workers:
        runs[w], baseline[w] = [], []
        for i in range(args.repeats):
            # Alternate which goes first, so slow drift in the machine's speed hits both alike.
            for which in ("this", "baseline") if i % 2 == 0 else ("baseline", "this"):
                if which == "this":
                    runs[w].append(measure_run([*base, f"workers={w}", f"seed={i}"], args.warmup, args.seconds,
                                               timeout))
                elif args.baseline:
                    baseline[w].append(measure_run([*common, f"runtime={args.baseline}", f"workers={w * args.groups}",
                                                    f"seed={i}"], args.warmup, args.seconds, timeout)["steps_per_s"])
            extra = f" (baseline {baseline[w][-1]:,.0f})" if args.baseline else ""
            print(f"workers={w} repeat {i}: {runs[w][-1]['steps_per_s']:,.0f} steps/s{extra}", file=sys.stderr)
    if cluster is not None:
        cluster.shutdown()
    independent: dict[int, list[float]] = {}
    for w in args.workers if args.independent else []:
        if w > 1:
            independent[w] = [measure_independent(base, w, args.warmup, args.seconds,
                                                  args.warmup + args.seconds + 180, seed=i)
                              for i in range(args.repeats)]
            print(f"{w} independent one-worker runs: {independent[w]}", file=sys.stderr)
    result = summarise(args.workers, runs, ceiling, ceiling["frame_skip"], cores, independent,
                       baseline if args.baseline else None, args.groups if args.runtime == "ray" else 1)
    result["config"] = {"env": args.env, "algo": args.algo, "runtime": args.runtime, "groups": args.groups,
                        "ray_nodes": args.ray_nodes, "baseline": args.baseline,
                        "envs_per_worker": args.envs_per_worker, "overrides": args.set, "seconds": args.seconds,
                        "warmup": args.warmup, "repeats": args.repeats, "independent": args.independent}
    label = f"{args.algo} on {args.env}, {args.runtime}, K={args.envs_per_worker}"
    if args.runtime == "ray":
        label += f", {args.groups} group(s) x W workers on {args.ray_nodes or 1} node(s)"
    table = markdown(label, result)
    print(table)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table + "\n")


if __name__ == "__main__":
    main()
