"""The one actor-learner loop, written once for every learner.

Each worker: sync its local network from the shared one, act for up to
``segment_length`` steps in its own environment with its own exploration,
ask the learner for the segment's loss, backpropagate locally, clip, and let
the shared optimizer apply its gradients to the shared parameters (no lock).
It talks to the main process only through small records on a queue.
"""

from __future__ import annotations

import signal
import time
import traceback
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf

from asyncrl.envs import make_env
from asyncrl.learners import LEARNERS, Learner, Segment
from asyncrl.nets import build_model
from asyncrl.optim import LinearDecay, build_optimizer
from asyncrl.runtime.shared import SharedState, copy_parameters


@dataclass(frozen=True)
class WorkerSpec:
    """Plain, picklable description of one worker."""

    worker_id: int
    seed: int
    config: dict[str, Any]
    start_time: float
    in_process: bool


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
        ActorLearner(spec, shared, queue).run()
    except BaseException:
        queue.put({"type": "error", "worker": spec.worker_id, "traceback": traceback.format_exc()})
        shared.stop.set()
    finally:
        queue.put({"type": "done", "worker": spec.worker_id})


class ActorLearner:
    """One worker's environment, local network, learner and optimizer."""

    def __init__(self, spec: WorkerSpec, shared: SharedState, queue: Any) -> None:
        self.spec, self.shared, self.queue = spec, shared, queue
        cfg = OmegaConf.create(spec.config)
        self.cfg = cfg
        self.rng = np.random.default_rng(spec.seed)
        torch.manual_seed(spec.seed)
        self.env = make_env(cfg.env)
        learner_cls = LEARNERS[cfg.algo.name]
        self.local = build_model(learner_cls.head, self.env.observation_space, self.env.action_space, cfg.model)
        # Plain attributes, not OmegaConf nodes: the learner reads them every update.
        algo_cfg = SimpleNamespace(**spec.config["algo"])
        self.learner: Learner = learner_cls(self.local, algo_cfg, self.env.action_space, self.rng)
        self.local_params = list(self.local.parameters())
        self.shared_params = list(shared.model.parameters())
        self.optimizer = build_optimizer(cfg.optim, self.shared_params, shared.optim_state)
        self.lr = LinearDecay(cfg.optim.lr, cfg.total_steps, cfg.optim.anneal_lr)
        self.grad_clip = cfg.optim.grad_clip
        self.report_interval_s = cfg.runtime.report_interval_s
        self.max_nonfinite = cfg.runtime.max_nonfinite_updates
        self.nonfinite_streak = 0
        self.frames_per_step = int(cfg.env.get("frame_skip", 1))

    def send(self, kind: str, **fields: Any) -> None:
        self.queue.put({"type": kind, "worker": self.spec.worker_id, **fields})

    def run(self) -> None:
        """Act and learn until the global budget is spent or the run is stopped."""
        learner, shared, total = self.learner, self.shared, self.cfg.total_steps
        length = learner.segment_length
        obs_np, _ = self.env.reset(seed=self.spec.seed)
        obs = torch.as_tensor(obs_np)
        obs_buf = torch.empty((length + 1, *obs.shape), dtype=obs.dtype)
        action_shape, action_dtype = learner.action_spec()
        actions = torch.empty((length, *action_shape), dtype=action_dtype)
        rewards = torch.empty(length, dtype=torch.float32)
        terminated = torch.zeros(length, dtype=torch.bool)
        self.send("worker", seed=self.spec.seed, **learner.worker_info())

        episode_return, episode_length, pending = 0.0, 0, None
        learner.on_episode_start()
        tracker, my_steps = MeanTracker(), 0
        last_report, steps_at_report = time.monotonic(), 0
        global_step = shared.global_step
        while global_step < total and not shared.stop.is_set():
            copy_parameters(self.local_params, self.shared_params)
            learner.on_segment_start()
            # game_over: the episode really ended; terminal: a terminal for learning
            # (a true terminal, or a lost life on Atari with life_loss_terminal).
            steps, terminal, game_over, truncated = 0, False, False, False
            with torch.no_grad():
                while steps < length and not (terminal or truncated):
                    obs_buf[steps] = obs
                    action = pending if pending is not None else learner.act(obs, global_step + steps)
                    pending = None
                    obs_np, reward, game_over, truncated, info = self.env.step(action)
                    terminal = game_over or bool(info.get("life_lost", False))
                    obs = torch.as_tensor(obs_np)
                    # A Box action is a float32 array (torch will not assign one directly).
                    actions[steps] = torch.from_numpy(action) if isinstance(action, np.ndarray) else action
                    rewards[steps], terminated[steps] = float(reward), terminal
                    episode_return += float(info.get("raw_reward", reward))  # the game's own score
                    episode_length += 1
                    steps += 1
                obs_buf[steps] = obs
                if learner.needs_next_action and not terminal:
                    # Sarsa: choose a' in s' now; it is executed next unless the episode was cut.
                    pending = learner.act(obs, global_step + steps)
            segment = Segment(obs_buf[: steps + 1], actions[:steps], rewards[:steps], terminated[:steps],
                              truncated=truncated and not terminal, next_action=pending)
            metrics = self.update(segment, global_step)
            _, global_step = shared.advance(steps)
            my_steps += steps
            if metrics:  # empty when the update was skipped
                tracker.add(metrics)
            if game_over or truncated:
                self.send("episode", global_step=global_step, frames=global_step * self.frames_per_step,
                          wall_s=time.time() - self.spec.start_time, episode_return=episode_return,
                          episode_length=episode_length)
                obs = torch.as_tensor(self.env.reset()[0])
                episode_return, episode_length, pending = 0.0, 0, None
                learner.on_episode_start()
            now = time.monotonic()
            if now - last_report >= self.report_interval_s:
                rate = (my_steps - steps_at_report) / (now - last_report)
                per_worker = {"steps_per_s": rate, **learner.exploration(global_step)}
                wid = self.spec.worker_id
                self.send("train", global_step=global_step, **{f"train/{k}": v for k, v in tracker.pop().items()},
                          **{f"worker_{wid}/{k}": v for k, v in per_worker.items()})
                last_report, steps_at_report = now, my_steps
        self.env.close()

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
