"""One training run, start to end: shared state, workers, evaluations, checkpoint, summary.

:func:`run_training` is what every entry point runs once the composition
root (:mod:`asyncrl.build`) has validated the config: the command line and
:func:`asyncrl.train`. The pieces it wires together each live in a module
of their own: the Hogwild set-up and the workers in :mod:`asyncrl.runtime`,
and the run's owner in the main process, from the first record to the
summary, in :mod:`asyncrl.recorder`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import torch

from asyncrl.build import RunParts
from asyncrl.checkpoint import restore
from asyncrl.recorder import RunRecorder
from asyncrl.run_state import RunState
from asyncrl.runtime.runner import Runner, Runtime
from asyncrl.runtime.shared import create_shared_state


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


def connect_cluster(parts: RunParts) -> Any:
    """Under ``runtime=ray``, this run's Ray connection (its CPUs checked before anything starts); else None."""
    if parts.config.runtime.kind != "ray":
        return None
    from asyncrl.runtime.ray.driver import RayCluster

    return RayCluster.connect(parts)


def make_runtime(recorder: RunRecorder, cluster: Any) -> Runtime:
    """The runtime the config names: worker processes or threads here, or Hogwild groups on Ray."""
    parts, shared, generation = recorder.parts, recorder.shared, recorder.state.resumes
    if cluster is not None:
        from asyncrl.runtime.ray.driver import RayRunner

        return RayRunner(parts, cluster, shared, recorder, recorder.origin, generation,
                         should_stop=recorder.out_of_time)
    # A resumed run's workers do not replay the random streams of the earlier sessions.
    streams = (generation,) if generation else ()
    return Runner(parts, shared, recorder, recorder.origin, streams, should_stop=recorder.out_of_time)


def run_training(parts: RunParts, run_dir: Path, ckpt: dict[str, Any] | None = None,
                 wandb_group: str | None = None) -> dict[str, Any]:
    """Train one run into ``run_dir`` (continuing ``ckpt`` if given); return the summary.

    Sets this process's torch threads to 1 (its evaluations must not crowd
    out the workers). Raises WorkerError when a worker failed (after writing
    the summary).
    """
    warn_if_oversubscribed(parts.config.workers, parts.config.runtime.kind)
    cluster = connect_cluster(parts)
    # The workers' shared state; under Ray, the driver's copy of the parameter server's global state.
    shared = create_shared_state(parts)
    state = RunState()
    if ckpt is not None:
        restore(shared, ckpt)
        state = RunState.resumed(ckpt.get("run_state", {}))
    torch.set_num_threads(1)  # the main process's evaluations must not crowd out the workers
    recorder = RunRecorder(parts, run_dir, shared, state, wandb_group)
    try:
        result = make_runtime(recorder, cluster).run()
    finally:
        recorder.close_progress()
    return recorder.finish(result)
