"""The one actor-learner loop, written once for every learner.

Each worker: sync its local network from the shared one, act for up to
``segment_length`` steps in its own environments (one in the paper;
``envs_per_worker`` side by side beyond it) with its own exploration,
ask the learner for the segment's loss, backpropagate locally, clip, and let
the shared optimizer apply its gradients to the shared parameters (no lock).
It talks to the main process only through small records on a queue.
"""

from __future__ import annotations

import os
import signal
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from asyncrl.learners import Learner, Segment
from asyncrl.runtime.rollout import Rollout
from asyncrl.runtime.shared import SharedState, copy_parameters

if TYPE_CHECKING:
    from asyncrl.build import RunParts

# One record a worker sends the main process (episode, train, phase, error, ...): plain JSON-able values.
Record = dict[str, Any]

# A worker's phases, which it reports to the main process: until its first record it is
# starting (a new process imports torch, gymnasium, ...), then it builds its envs, network
# and learner, then it waits for the other workers to be built, then it runs (its "worker" record).
STARTING, BUILDING, READY, RUNNING = ("starting (imports)", "building (envs, network, learner)",
                                      "built, waiting for the other workers", "running")


@dataclass(frozen=True)
class WorkerSpec:
    """Plain, picklable description of one worker."""

    worker_id: int
    seed: int
    parts: RunParts  # the run's validated config and algorithm (asyncrl.build)
    start_time: float
    main_pid: int | None
    """The main process's pid for a worker process (None for a thread).

    Taken by the main process, not by the worker at start-up: a worker that
    is still starting when the main process is killed would otherwise record
    its new parent (init) and never notice it was orphaned.
    """

    @property
    def in_process(self) -> bool:
        """True for a worker process, False for a worker thread."""
        return self.main_pid is not None

    def main_alive(self) -> bool:
        """False once the main process is gone (this process was re-parented)."""
        return self.main_pid is None or os.getppid() == self.main_pid


class MeanTracker:
    """Running means of training metrics between two reports."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.count = 0

    def add(self, metrics: dict[str, float]) -> None:
        for key, value in metrics.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
        self.count += 1

    def pop(self) -> dict[str, float]:
        means = {key: total / self.count for key, total in self.sums.items()} if self.count else {}
        self.sums, self.count = {}, 0
        return means


def worker_main(spec: WorkerSpec, shared: SharedState, queue: Any) -> None:
    """Entry point of a worker process or thread; reports any error and stops all."""
    try:
        if spec.in_process:
            # Ctrl-C reaches the whole process group; only the main process handles it.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            torch.set_num_threads(1)
        queue.put({"type": "phase", "worker": spec.worker_id, "phase": BUILDING})
        worker = ActorLearner(spec, shared, queue)
        queue.put({"type": "phase", "worker": spec.worker_id, "phase": READY})
        while not shared.go.wait(0.1):
            if shared.stop.is_set() or not spec.main_alive():
                return
        worker.run()
    except BaseException:
        queue.put({"type": "error", "worker": spec.worker_id, "traceback": traceback.format_exc()})
        shared.stop.set()
    finally:
        queue.put({"type": "done", "worker": spec.worker_id})
        if not spec.main_alive():
            # Nobody reads the queue any more: exit without flushing it (that would block forever).
            queue.cancel_join_thread()


class ActorLearner:
    """One worker's environment, local network, learner and optimizer."""

    def __init__(self, spec: WorkerSpec, shared: SharedState, queue: Any) -> None:
        self.spec, self.shared, self.queue = spec, shared, queue
        parts = spec.parts
        cfg = self.cfg = parts.config
        self.rng = np.random.default_rng(spec.seed)
        torch.manual_seed(spec.seed)
        self.envs = parts.envs()
        self.local = parts.network()
        self.learner: Learner = parts.learner(self.local, self.rng)
        self.needs_next_action = parts.algorithm.needs_next_action
        self.local_params = list(self.local.parameters())
        self.shared_params = list(shared.model.parameters())
        self.optimizer = parts.optimizer(self.shared_params, shared.optim_state)
        self.lr = parts.lr_schedule(spec.start_time)
        self.grad_clip = cfg.optim.grad_clip
        self.report_interval_s = cfg.runtime.report_interval_s
        self.max_nonfinite = cfg.runtime.max_nonfinite_updates
        self.nonfinite_streak = 0
        self.frames_per_step = cfg.env.frames_per_step
        self.rollout = Rollout(self.envs, self.learner, spec.seed, self.needs_next_action)
        self.tracker, self.my_steps = MeanTracker(), 0

    def send(self, kind: str, **fields: Any) -> None:
        self.queue.put({"type": kind, "worker": self.spec.worker_id, **fields})

    def run(self) -> None:
        """Act and learn until the global budget is spent or the run is stopped."""
        shared, total = self.shared, self.cfg.total_steps
        self.send("worker", seed=self.spec.seed, envs=self.envs.num_envs, **self.learner.worker_info())
        last_report, steps_at_report = time.monotonic(), 0
        global_step = shared.global_step
        while global_step < total and not shared.stop.is_set() and self.spec.main_alive():
            global_step = self.step(global_step)
            now = time.monotonic()
            if now - last_report >= self.report_interval_s:
                rate = (self.my_steps - steps_at_report) / (now - last_report)
                per_worker = {"steps_per_s": rate, **self.learner.exploration(global_step)}
                wid = self.spec.worker_id
                self.send("train", global_step=global_step,
                          **{f"train/{k}": v for k, v in self.tracker.pop().items()},
                          **{f"worker_{wid}/{k}": v for k, v in per_worker.items()})
                last_report, steps_at_report = now, self.my_steps
        self.envs.close()

    def step(self, global_step: int) -> int:
        """One segment: refresh the local net from the shared one, act, update the shared parameters.

        Sends the records of the episodes that ended in it; returns the global
        step after it (other workers' steps included).
        """
        copy_parameters(self.local_params, self.shared_params)
        segment = self.rollout.collect(global_step)
        metrics = self.update(segment, global_step)
        steps = segment.actions.shape[0] * segment.actions.shape[1]
        _, global_step = self.shared.advance(steps)
        self.my_steps += steps
        if metrics:  # empty when the update was skipped
            self.tracker.add(metrics)
        for env, episode_return, episode_length in self.rollout.finished_episodes():
            self.send("episode", global_step=global_step, frames=global_step * self.frames_per_step,
                      wall_s=time.time() - self.spec.start_time, episode_return=episode_return,
                      episode_length=episode_length, env=env)
        return global_step

    def update(self, segment: Segment, global_step: int) -> dict[str, float]:
        """Loss, local backward, clipping, then the lock-free shared step.

        A non-finite loss or gradient never reaches the shared parameters: the
        update is skipped and reported; ``max_nonfinite_updates`` in a row
        stop the run with an error.
        """
        loss, metrics = self.learner.loss(segment, self.shared.target)
        for p in self.local_params:
            p.grad = None
        loss.backward()
        grads = [p.grad for p in self.local_params]
        norm = torch.nn.utils.clip_grad_norm_(self.local_params, self.grad_clip or float("inf"))
        if not (torch.isfinite(loss) and torch.isfinite(norm)):
            self.nonfinite_streak += 1
            self.send("skipped_update", global_step=global_step, loss=float(loss), grad_norm=float(norm))
            if self.nonfinite_streak >= self.max_nonfinite:
                raise FloatingPointError(f"{self.nonfinite_streak} updates in a row had a non-finite loss or "
                                         f"gradient (last loss {float(loss)}, gradient norm {float(norm)})")
            return {}
        self.nonfinite_streak = 0
        lr = self.lr(global_step)
        self.optimizer.step(grads, lr)
        metrics["grad_norm"] = float(norm)
        metrics["lr"] = lr
        return metrics
