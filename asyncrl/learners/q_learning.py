"""The value-based methods: one-step Q, one-step Sarsa and n-step Q.

All three act epsilon-greedily with a per-worker final epsilon and learn from
a segment against the shared target network theta-; they differ only in their
targets. With gradients accumulated over I_update steps, one-step Q and Sarsa
are a segment of I_update transitions with one-step targets.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from asyncrl.learners.base import Learner, Metrics, Segment
from asyncrl.learners.exploration import EpsilonSchedule, sample_final_epsilon
from asyncrl.learners.returns import nstep_returns, one_step_targets


class QLearner(Learner):
    """Epsilon-greedy acting and a squared (paper) or Huber TD loss."""

    head = "q"
    uses_target_net = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        final = sample_final_epsilon(self.rng, self.cfg.eps_finals, self.cfg.eps_probs)
        self.epsilon = EpsilonSchedule(final, self.cfg.eps_anneal)

    def act(self, obs: Tensor, global_step: int) -> np.ndarray:
        explore = self.rng.random(obs.shape[0]) < self.epsilon(global_step)
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

    name = "one_step_q"

    @property
    def segment_length(self) -> int:
        return self.cfg.update_interval

    def targets(self, segment: Segment, target_net: nn.Module) -> Tensor:
        next_q = next_state_q(target_net, segment).max(dim=-1).values
        return one_step_targets(segment.rewards, segment.terminated, next_q, self.cfg.gamma)


class OneStepSarsa(QLearner):
    """y_i = r_i + gamma Q(s_{i+1}, a_{i+1}; theta-), a_{i+1} the action taken next."""

    name = "one_step_sarsa"
    needs_next_action = True

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

    name = "nstep_q"

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
