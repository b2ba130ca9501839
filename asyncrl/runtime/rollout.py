"""Collecting one segment from a worker's K environments.

The paper's worker (K = 1) acts until t_max steps or the end of the episode,
whichever comes first. With K > 1 every env steps t_max times in lockstep,
acting on all K observations in one batched forward; an episode that ends
inside the segment is marked terminal and its env goes on with a new
episode. A time-limit truncation ends the segment for all envs, so the
truncated env's last observation is the segment's final row and the learner
can bootstrap from it.
"""

from __future__ import annotations

import numpy as np
import torch

from asyncrl.envs import BatchEnv
from asyncrl.learners import Learner, Segment


class Rollout:
    """A worker's envs, their current observations, and preallocated segment buffers."""

    def __init__(self, envs: BatchEnv, learner: Learner, seed: int, needs_next_action: bool = False) -> None:
        """``needs_next_action``: the algorithm's declared need (Sarsa) for the action in the last state."""
        self.envs, self.learner, self.needs_next_action = envs, learner, needs_next_action
        k, length = envs.num_envs, learner.segment_length
        self.obs_np = envs.reset(seed=seed)
        self.obs = torch.from_numpy(self.obs_np)
        self.obs_buf = torch.empty((length + 1, *self.obs.shape), dtype=self.obs.dtype)
        # Per-step rows are written as numpy (cheap) and handed over as tensors sharing the memory.
        self.obs_rows = self.obs_buf.numpy()
        action_shape, action_dtype = learner.action_spec()
        self.actions = np.empty((length, k, *action_shape), dtype=action_dtype)
        self.rewards = np.empty((length, k), dtype=np.float32)
        self.raw_rewards = np.empty((length, k), dtype=np.float64)
        self.terminated = np.zeros((length, k), dtype=bool)
        self.episode_end = np.zeros((length, k), dtype=bool)
        self.returns, self.lengths = np.zeros(k), np.zeros(k, dtype=np.int64)
        self.finished: list[tuple[int, float, int]] = []
        self.pending: np.ndarray | None = None  # actions already chosen for self.obs (needs_next_action)
        learner.on_episode_start()

    def collect(self, global_step: int) -> Segment:
        """Act for up to ``segment_length`` steps; the learner's network must be current."""
        learner, k = self.learner, self.envs.num_envs
        learner.on_segment_start()
        steps = 0
        with torch.no_grad():
            while True:
                self.obs_rows[steps] = self.obs_np
                actions = self.pending if self.pending is not None else learner.act(self.obs, global_step + steps * k)
                self.pending = None
                out = self.envs.step(actions)
                ended = out.episode_end
                self.actions[steps], self.rewards[steps], self.raw_rewards[steps] = actions, out.reward, out.raw_reward
                self.terminated[steps], self.episode_end[steps] = out.terminal, ended
                self.obs_np, self.obs = out.obs, torch.from_numpy(out.obs)
                steps += 1
                truncated = out.truncated & ~out.terminal
                # The paper's segment never spans a terminal (K = 1); a truncation ends it for any K.
                if steps == learner.segment_length or truncated.any() or (k == 1 and out.terminal[0]):
                    break
                if ended.any():
                    learner.on_episode_start(ended)
            self.obs_rows[steps] = out.final_obs
            next_action = None
            if self.needs_next_action:
                next_action = self.choose_next(self.obs_buf[steps], global_step + steps * k, ended)
        if ended.any():
            learner.on_episode_start(ended)
        self.track_episodes(steps)
        return Segment(self.obs_buf[: steps + 1], torch.from_numpy(self.actions[:steps]),
                       torch.from_numpy(self.rewards[:steps]), torch.from_numpy(self.terminated[:steps]),
                       torch.from_numpy(truncated), next_action, torch.from_numpy(self.episode_end[:steps]))

    def choose_next(self, last_obs: torch.Tensor, global_step: int, ended: np.ndarray) -> torch.Tensor:
        """The actions a' in the segment's last states (Sarsa's target); executed next where the episode goes on."""
        chosen = self.learner.act(last_obs, global_step)
        self.pending = chosen.copy()
        if ended.any():  # a new episode began there: its first action is chosen afresh
            self.pending[ended] = self.learner.act(self.obs, global_step)[ended]
        return torch.from_numpy(np.asarray(chosen))

    def track_episodes(self, steps: int) -> None:
        """Add the segment's game scores per env; remember the episodes that ended in it."""
        raw, ended = self.raw_rewards[:steps], self.episode_end[:steps]
        if not ended.any():
            self.returns += raw.sum(axis=0)
            self.lengths += steps
            return
        for t in range(steps):
            self.returns += raw[t]
            self.lengths += 1
            for env in np.flatnonzero(ended[t]):
                self.finished.append((int(env), float(self.returns[env]), int(self.lengths[env])))
                self.returns[env], self.lengths[env] = 0.0, 0

    def finished_episodes(self) -> list[tuple[int, float, int]]:
        """(env, return, length) of the episodes finished since the last call."""
        done, self.finished = self.finished, []
        return done
