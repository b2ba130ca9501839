"""One training run, start to end: shared state, workers, evaluations, checkpoint, summary.

:func:`run_training` is what every entry point runs once the composition
root (:mod:`asyncrl.build`) has validated the config: the command line and
:func:`asyncrl.train`. The pieces it wires together each live in a module
of their own: the Hogwild set-up and the workers in :mod:`asyncrl.runtime`,
the run directory's writer in :mod:`asyncrl.recorder`, the summary in
:mod:`asyncrl.summary`.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

from asyncrl.build import RunParts
from asyncrl.checkpoint import restore
from asyncrl.config import to_plain
from asyncrl.metrics import WandbSink
from asyncrl.recorder import RunRecorder, new_run_state, previous_episodes
from asyncrl.runtime.runner import Runner, WorkerError
from asyncrl.runtime.shared import SharedState, create_shared_state
from asyncrl.summary import build_summary, write_summary


def available_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def warn_if_oversubscribed(workers: int, runtime: str) -> None:
    """One line on stderr when worker processes outnumber the cores (it runs, slowly).

    Each worker process steps its ``envs_per_worker`` envs in one thread, so it
    is the worker count, not workers x envs, that competes for the cores.
    """
    cores = available_cores()
    if runtime == "processes" and workers > cores:
        print(f"warning: workers={workers} on {cores} cores: each worker gets about {cores / workers:.2f} of a core "
              f"and about 300 MiB, and start-up takes longer; workers={cores} keeps every core busy",
              file=sys.stderr, flush=True)


def make_runner(parts: RunParts, cluster: Any, shared: SharedState, recorder: RunRecorder, origin: float,
                generation: int) -> Runner | Any:
    """The runtime the config names: worker processes or threads here, or Hogwild groups on Ray."""
    if cluster is not None:
        from asyncrl.runtime.ray.driver import RayRunner

        return RayRunner(parts, cluster, shared, recorder, origin, generation, should_stop=recorder.out_of_time)
    return Runner(parts, shared, recorder, origin, generation, should_stop=recorder.out_of_time)


def run_training(parts: RunParts, run_dir: Path, ckpt: dict[str, Any] | None = None,
                 wandb_group: str | None = None) -> dict[str, Any]:
    """Train one run into ``run_dir`` (continuing ``ckpt`` if given); return the summary.

    Sets this process's torch threads to 1 (its evaluations must not crowd
    out the workers). Raises WorkerError when a worker failed (after writing
    the summary).
    """
    cfg = parts.config
    warn_if_oversubscribed(cfg.workers, cfg.runtime.kind)
    cluster = None
    if cfg.runtime.kind == "ray":  # connect (and check its CPUs) before anything starts
        from asyncrl.runtime.ray.driver import RayCluster

        cluster = RayCluster.connect(parts)
    # The workers' shared state; under Ray, the driver's copy of the parameter server's global state.
    shared = create_shared_state(parts)
    run_state = new_run_state()
    if ckpt is not None:
        restore(shared, ckpt)
        run_state.update(ckpt.get("run_state", {}))
        run_state["resumes"] += 1
    torch.set_num_threads(1)  # the main process's evaluations must not crowd out the workers
    run_dir.mkdir(parents=True, exist_ok=True)
    sink = None
    if cfg.logger == "wandb":
        sink = WandbSink(cfg.wandb, to_plain(cfg), run_dir, run_dir.name, cfg.wandb.group or wandb_group)
    start = time.time()
    if cfg.time_limit_s > 0:  # the workers' lr schedule reads it (optim.anneal_over=budget)
        parts = dataclasses.replace(parts, deadline=start + cfg.time_limit_s)
    recorder = RunRecorder(parts, run_dir, shared, start, run_state, sink)
    if ckpt is not None:
        recorder.write({"type": "resume", "global_step": shared.global_step, "resumes": run_state["resumes"]})
        # The recent-return window (solved criterion, progress) continues from the earlier part.
        recorder.episodes.recent.extend(previous_episodes(run_dir / "metrics.jsonl", cfg.env.solved_window))
    try:
        # Workers stamp wall_s from this origin: a resumed run's clock continues.
        origin = start - run_state["wall_s"]
        result = make_runner(parts, cluster, shared, recorder, origin, run_state["resumes"]).run()
    finally:
        recorder.close()
    recorder.end_time = time.time()
    status = result.status
    if status == "finished" and cfg.stop_when_solved and run_state["solved_at"] is not None:
        status = "solved"  # stopped early because it was; solved_at_step is recorded either way

    try:
        if status != "interrupted":  # after Ctrl-C, do not wait for a periodic evaluation
            recorder.collect_evaluation(recorder.evaluator.wait())
        if status in ("finished", "solved") and cfg.eval.episodes > 0:
            recorder.final_evaluation()
    except KeyboardInterrupt:
        status = "interrupted"
    except OSError:
        if status != "failed":
            raise
    if status != "failed":
        recorder.save_checkpoint()
    summary = build_summary(parts, recorder, status, result.error)
    try:
        write_summary(run_dir, summary)
        recorder.writer.close()
    except OSError as exc:
        if status != "failed":
            raise
        print(f"warning: could not finish writing {run_dir}: {exc}", file=sys.stderr)
    if sink is not None:
        sink.close(summary)
    if status == "failed":
        raise WorkerError(result.error or "a worker failed")
    return summary
