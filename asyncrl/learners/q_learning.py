"""The value-based methods: one-step Q, one-step Sarsa and n-step Q.

All three act epsilon-greedily with a per-worker final epsilon and learn from
a segment against the shared target network theta-; they differ only in their
targets. With gradients accumulated over I_update steps, one-step Q and Sarsa
are a segment of I_update transitions with one-step targets.
"""

from __future__ import annotations

from abc import abstractmethod

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

    def act(self, obs: Tensor, global_step: int) -> int:
        if self.rng.random() < self.epsilon(global_step):
            return int(self.rng.integers(self.num_actions))
        return int(self.model(obs.unsqueeze(0))[0].argmax().item())

    @abstractmethod
    def targets(self, segment: Segment, target_net: nn.Module) -> Tensor:
        """The regression targets y_i for the segment's T transitions (no grad)."""

    def loss(self, segment: Segment, target_net: nn.Module | None) -> tuple[Tensor, Metrics]:
        assert target_net is not None, "value-based learners need the shared target network"
        steps = len(segment)
        q_taken = self.model(segment.obs[:steps]).gather(1, segment.actions.unsqueeze(1)).squeeze(1)
        with torch.no_grad():
            y = self.targets(segment, target_net)
        if self.cfg.loss == "huber":
            # 0.5 x^2 near zero, linear beyond |x| = 1 (DQN's clipped TD error).
            loss = F.huber_loss(q_taken, y, reduction="sum", delta=1.0)
        else:
            loss = (y - q_taken).pow(2).sum()
        metrics = {"td_loss": loss.item() / steps, "q_mean": q_taken.mean().item()}
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
        next_q = target_net(segment.obs[1:]).max(dim=1).values
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
        last = segment.next_action if segment.next_action is not None else 0
        next_actions = torch.cat([segment.actions[1:], segment.actions.new_tensor([last])])
        next_q = target_net(segment.obs[1:]).gather(1, next_actions.unsqueeze(1)).squeeze(1)
        return one_step_targets(segment.rewards, segment.terminated, next_q, self.cfg.gamma)


class NStepQ(QLearner):
    """R_i = r_i + gamma R_{i+1}, R_T = max_a Q(s_T, a; theta-) (paper Algorithm S2)."""

    name = "nstep_q"

    @property
    def segment_length(self) -> int:
        return self.cfg.t_max

    def targets(self, segment: Segment, target_net: nn.Module) -> Tensor:
        bootstrap = target_net(segment.obs[-1:]).max(dim=1).values[0]
        return nstep_returns(segment.rewards, segment.terminated, bootstrap, self.cfg.gamma)
