"""The value-based methods: one-step Q, one-step Sarsa and n-step Q.

All three act epsilon-greedily with a per-worker final epsilon and learn from
a segment against the shared target network theta-; they differ only in their
targets. With gradients accumulated over I_update steps, one-step Q and Sarsa
are a segment of I_update transitions with one-step targets.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from asyncrl.algorithm import Algorithm
from asyncrl.config import AlgoConfig, require, require_choice, require_positive
from asyncrl.learners.base import Learner, Metrics, Segment
from asyncrl.learners.exploration import EpsilonSchedule, sample_final_epsilon
from asyncrl.learners.returns import nstep_returns, one_step_targets
from asyncrl.nets import q_network

LOSSES = ("squared", "huber")


@dataclass
class ValueConfig(AlgoConfig):
    """Fields shared by the three value-based methods."""

    # Global agent steps between target syncs (paper: 40,000 frames = 10,000 steps).
    target_interval: int = 10_000
    loss: str = "squared"  # squared (paper) | huber
    # Global agent steps over which epsilon goes from 1 to a worker's final value
    # (paper: 4 million frames = 1 million agent steps).
    eps_anneal: int = 1_000_000
    # Each worker draws its final epsilon once from eps_finals, with probabilities eps_probs.
    eps_finals: list[float] = field(default_factory=lambda: [0.1, 0.01, 0.5])
    eps_probs: list[float] = field(default_factory=lambda: [0.4, 0.3, 0.3])  # one per entry of eps_finals

    def check(self) -> None:
        super().check()
        require_positive(self, "target_interval", "eps_anneal")
        require_choice(self.loss, "loss", LOSSES)
        finals, probs = list(self.eps_finals), list(self.eps_probs)
        require(len(finals) == len(probs) > 0, "eps_probs", "needs one probability per entry of algo.eps_finals",
                probs)
        require(all(0.0 <= e <= 1.0 for e in finals), "eps_finals", "must lie in [0, 1]", finals)
        require(all(p >= 0 for p in probs) and math.isclose(sum(probs), 1.0, abs_tol=1e-6), "eps_probs",
                "must be >= 0 and sum to 1", probs)


@dataclass
class OneStepConfig(ValueConfig):
    """One-step Q-learning (paper Algorithm 1) and one-step Sarsa."""

    name: str = "one_step_q"  # one_step_q | one_step_sarsa
    # A worker applies its accumulated gradient every update_interval steps (and at episode end).
    update_interval: int = 5

    def check(self) -> None:
        super().check()
        require_positive(self, "update_interval")


@dataclass
class NStepQConfig(ValueConfig):
    """n-step Q-learning (paper Algorithm S2)."""

    name: str = "nstep_q"
    t_max: int = 5  # agent steps per segment: each update uses up to t_max-step returns

    def check(self) -> None:
        super().check()
        require_positive(self, "t_max")


class QLearner(Learner):
    """Epsilon-greedy acting and a squared (paper) or Huber TD loss."""

    # Outside training, ``play`` acts epsilon-greedily with this epsilon unless
    # deterministic (the DQN evaluation protocol).
    eval_epsilon = 0.05
    evaluation_policy = f"epsilon-greedy actions with epsilon {eval_epsilon}"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        final = sample_final_epsilon(self.rng, self.cfg.eps_finals, self.cfg.eps_probs)
        self.epsilon = EpsilonSchedule(final, self.cfg.eps_anneal)

    def act(self, obs: Tensor, global_step: int) -> np.ndarray:
        return self.epsilon_greedy(obs, self.epsilon(global_step))

    def play(self, obs: Tensor, state: Any = None, deterministic: bool = False) -> tuple[np.ndarray, Any]:
        return self.epsilon_greedy(obs, 0.0 if deterministic else self.eval_epsilon), None

    def epsilon_greedy(self, obs: Tensor, epsilon: float) -> np.ndarray:
        """argmax_a Q(s, a), replaced by a uniform action with probability ``epsilon`` per env."""
        explore = self.rng.random(obs.shape[0]) < epsilon
        exploring = int(np.count_nonzero(explore))
        if exploring == explore.size:  # early on, skip the forward pass entirely
            return self.rng.integers(self.num_actions, size=exploring)
        actions = self.model(obs).argmax(dim=1).numpy()
        if exploring:  # random actions are drawn only for the envs that explore
            actions[explore] = self.rng.integers(self.num_actions, size=exploring)
        return actions

    @abstractmethod
    def targets(self, segment: Segment, target_net: nn.Module) -> Tensor:
        """The regression targets y [T, K] for the segment's transitions (no grad)."""

    def loss(self, segment: Segment, target_net: nn.Module | None) -> tuple[Tensor, Metrics]:
        assert target_net is not None, "value-based learners need the shared target network"
        steps = len(segment)
        q = self.model(segment.obs[:steps].flatten(0, 1))
        q_taken = q.gather(1, segment.actions.reshape(-1, 1)).view(steps, -1)
        with torch.no_grad():
            y = self.targets(segment, target_net)
        if self.cfg.loss == "huber":
            # 0.5 x^2 near zero, linear beyond |x| = 1 (DQN's clipped TD error).
            loss = F.huber_loss(q_taken, y, reduction="sum", delta=1.0)
        else:
            loss = (y - q_taken).pow(2).sum()
        metrics = {"td_loss": loss.item() / q_taken.numel(), "q_mean": q_taken.mean().item()}
        return loss, metrics

    def worker_info(self) -> dict[str, float]:
        return {"final_epsilon": self.epsilon.final}

    def exploration(self, global_step: int) -> dict[str, float]:
        return {"epsilon": self.epsilon(global_step)}


class OneStepQ(QLearner):
    """y_i = r_i + gamma max_a' Q(s_{i+1}, a'; theta-) (paper Algorithm 1)."""

    @property
    def segment_length(self) -> int:
        return self.cfg.update_interval

    def targets(self, segment: Segment, target_net: nn.Module) -> Tensor:
        next_q = next_state_q(target_net, segment).max(dim=-1).values
        return one_step_targets(segment.rewards, segment.terminated, next_q, self.cfg.gamma)


class OneStepSarsa(QLearner):
    """y_i = r_i + gamma Q(s_{i+1}, a_{i+1}; theta-), a_{i+1} the action taken next."""

    @property
    def segment_length(self) -> int:
        return self.cfg.update_interval

    def targets(self, segment: Segment, target_net: nn.Module) -> Tensor:
        # After a terminal there is no next action; its target ignores next_q.
        last = segment.next_action if segment.next_action is not None else torch.zeros_like(segment.actions[0])
        next_actions = torch.cat([segment.actions[1:], last.unsqueeze(0)])
        next_q = next_state_q(target_net, segment).gather(-1, next_actions.unsqueeze(-1)).squeeze(-1)
        return one_step_targets(segment.rewards, segment.terminated, next_q, self.cfg.gamma)


class NStepQ(QLearner):
    """R_i = r_i + gamma R_{i+1}, R_T = max_a Q(s_T, a; theta-) (paper Algorithm S2)."""

    @property
    def segment_length(self) -> int:
        return self.cfg.t_max

    def targets(self, segment: Segment, target_net: nn.Module) -> Tensor:
        bootstrap = target_net(segment.obs[-1]).max(dim=1).values
        return nstep_returns(segment.rewards, segment.terminated, bootstrap, self.cfg.gamma)


def next_state_q(net: nn.Module, segment: Segment) -> Tensor:
    """Q(s_{i+1}, .) [T, K, A] for every transition of the segment, in one batch.

    Where an episode ended inside the segment the next row is a new episode's
    first state; those transitions are terminal and their targets ignore it.
    """
    steps, envs = segment.obs.shape[0] - 1, segment.obs.shape[1]
    return net(segment.obs[1:].flatten(0, 1)).view(steps, envs, -1)


ALGORITHMS = [
    Algorithm("one_step_q", OneStepConfig, OneStepQ, q_network, uses_target_net=True),
    # Sarsa's target needs the action chosen in the segment's last state, which is then executed.
    Algorithm("one_step_sarsa", OneStepConfig, OneStepSarsa, q_network, uses_target_net=True, needs_next_action=True),
    Algorithm("nstep_q", NStepQConfig, NStepQ, q_network, uses_target_net=True),
]
