"""The learner contract: how to act and what the loss is, nothing else.

A learner never touches shared memory, optimizers or processes; the runtime
(``asyncrl.runtime.worker``) owns all of that and is written once for every
learner.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn


@dataclass
class Segment:
    """Up to t_max consecutive steps of a worker's K environments, time-major.

    With K = 1 (the paper) a segment ends at t_max steps or at the end of the
    episode, so only its last transition can be terminal or truncated. With
    K > 1 every env steps t_max times: an episode (or, on Atari, a life) that
    ends inside the segment is marked in ``terminated`` and the env's next
    row is its new episode's first observation. A time-limit truncation
    always ends the segment, so ``obs[T]`` is the state to bootstrap from.
    ``obs[T]`` is always the state the last transition led to (an episode's
    last observation where it ended); the env goes on from its new episode.
    """

    obs: Tensor  # [T + 1, K, *obs_shape]; obs[T] is the state after the last transition
    actions: Tensor  # [T, K] int64 (or [T, K, action_dim] for continuous actions)
    rewards: Tensor  # [T, K] float32, as the learner should see them (clipped on Atari)
    terminated: Tensor  # [T, K] bool: terminal for learning, which stops bootstrapping
    truncated: Tensor  # [K] bool: the env's episode hit its time limit after the last transition
    next_action: Tensor | None = None  # [K] the actions chosen in obs[T] (Sarsa), if any
    # [T, K] bool: the episode really ended at this step (recurrent state resets after it).
    episode_end: Tensor | None = None

    def __len__(self) -> int:
        return int(self.actions.shape[0])

    @property
    def num_envs(self) -> int:
        return int(self.actions.shape[1])

    @classmethod
    def single(cls, obs: Tensor, actions: Tensor, rewards: Tensor, terminated: Tensor, truncated: bool,
               next_action: int | None = None) -> Segment:
        """A segment of one env (K = 1) from per-step tensors without the env axis."""
        return cls(obs.unsqueeze(1), actions.unsqueeze(1), rewards.unsqueeze(1), terminated.unsqueeze(1),
                   torch.tensor([truncated]), None if next_action is None else torch.tensor([next_action]))


Metrics = dict[str, float]


class Learner(ABC):
    """One actor-learner's policy and loss, over a worker-local network copy.

    ``cfg`` is the algorithm's typed config (its schema in the algorithm's
    declaration, :class:`asyncrl.registry.Algorithm`); what the runtime must
    provide besides (a target network, Sarsa's next action) is declared there
    too, not here.
    """

    # What ``play`` does when not deterministic, in words (evaluations print it).
    evaluation_policy = "the learner's own evaluation policy"

    def __init__(self, model: nn.Module, cfg: Any, action_space: gym.Space | int, rng: np.random.Generator) -> None:
        """``action_space`` is the env's; an int n stands for Discrete(n)."""
        self.model = model
        self.cfg = cfg
        self.action_space = gym.spaces.Discrete(action_space) if isinstance(action_space, int) else action_space
        self.num_actions = int(self.action_space.n) if isinstance(self.action_space, gym.spaces.Discrete) else 0
        self.rng = rng

    def action_spec(self) -> tuple[tuple[int, ...], type]:
        """The shape and numpy dtype of one action, for the worker's segment buffer."""
        if isinstance(self.action_space, gym.spaces.Box):
            return tuple(self.action_space.shape), np.float32
        return (), np.int64

    @property
    @abstractmethod
    def segment_length(self) -> int:
        """Transitions per update (t_max, or I_update for the one-step methods)."""

    @abstractmethod
    def act(self, obs: Tensor, global_step: int) -> np.ndarray:
        """Choose one action per env for observations [K, ...]; called under torch.no_grad."""

    @abstractmethod
    def play(self, obs: Tensor, state: Any = None, deterministic: bool = False) -> tuple[np.ndarray, Any]:
        """Actions [K] for observations [K, ...] outside training (evaluation, :class:`asyncrl.Agent`).

        ``state`` is a recurrent model's state (None: episodes start here), and
        the state after these observations is returned with the actions.
        ``deterministic`` picks the greedy action; otherwise the learner's own
        evaluation behaviour (sampling, or a small epsilon). Called under no_grad.
        """

    @abstractmethod
    def loss(self, segment: Segment, target_net: nn.Module | None) -> tuple[Tensor, Metrics]:
        """The scalar loss whose gradient is this segment's update, and metrics."""

    def on_episode_start(self, envs: np.ndarray | None = None) -> None:  # noqa: B027 - an optional hook
        """New episodes begin in these envs (all when None): recurrent learners reset their state."""

    def on_segment_start(self) -> None:  # noqa: B027 - an optional hook
        """A new segment begins (recurrent learners remember the state to replay from)."""

    def worker_info(self) -> dict[str, float]:
        """Per-worker constants worth logging once (e.g. the final epsilon)."""
        return {}

    def exploration(self, global_step: int) -> dict[str, float]:
        """Exploration parameters at ``global_step``, for the training records."""
        return {}

