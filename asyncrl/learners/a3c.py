"""A3C: asynchronous advantage actor-critic, feed-forward (paper Algorithm S3)."""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from torch import Tensor, nn

from asyncrl.learners.base import Learner, Metrics, Segment
from asyncrl.learners.returns import nstep_returns


class A3C(Learner):
    """Softmax policy and value sharing one body; n-step returns over t_max.

    Feed-forward, or A3C-LSTM when the model is recurrent: the LSTM state is
    carried across segments and reset at episode start; the loss replays the
    segment from the state at its start, detached there (truncated
    backpropagation over t_max steps).

    The loss of a segment of T steps, summed over steps as the paper
    accumulates gradients:

        policy  -log pi(a_i|s_i) * (R_i - V(s_i))        (advantage held fixed)
        value   value_loss_coef * (R_i - V(s_i))^2
        entropy -entropy_beta * H(pi(.|s_i))

    with R_i the forward-view return bootstrapped from V(s_T) unless s_T is a
    true terminal.
    """

    name = "a3c"
    head = "actor_critic"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.recurrent = getattr(self.model, "recurrent", False)
        self.state = self.segment_state = self.model.initial_state() if self.recurrent else None

    @property
    def segment_length(self) -> int:
        return self.cfg.t_max

    def on_episode_start(self) -> None:
        if self.recurrent:
            self.state = self.model.initial_state()

    def on_segment_start(self) -> None:
        if self.recurrent:
            self.segment_state = (self.state[0].detach(), self.state[1].detach())

    def forward_segment(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        """Logits and values for the segment's T + 1 observations, in one batch."""
        if self.recurrent:
            logits, values, _ = self.model.unroll(obs, self.segment_state)
            return logits, values
        return self.model(obs)

    def act(self, obs: Tensor, global_step: int) -> int:
        if self.recurrent:
            logits, _, self.state = self.model.step(obs.unsqueeze(0), self.state)
        else:
            logits, _ = self.model(obs.unsqueeze(0))
        cdf = np.cumsum(F.softmax(logits[0], dim=-1).numpy())
        # Inverse-CDF sampling: several times cheaper than torch.multinomial at batch 1.
        return min(int(np.searchsorted(cdf, self.rng.random() * cdf[-1], side="right")), len(cdf) - 1)

    def loss(self, segment: Segment, target_net: nn.Module | None) -> tuple[Tensor, Metrics]:
        steps = len(segment)
        # One batched forward over the segment and its last state (recomputing is
        # cheaper than keeping a graph per acting step).
        logits, values = self.forward_segment(segment.obs)
        log_probs = F.log_softmax(logits[:steps], dim=-1)
        returns = nstep_returns(segment.rewards, segment.terminated, values[steps].detach(), self.cfg.gamma)
        advantages = returns - values[:steps]
        log_prob_taken = log_probs.gather(1, segment.actions.unsqueeze(1)).squeeze(1)
        entropy = -(log_probs.exp() * log_probs).sum(dim=1)
        policy_loss = -(log_prob_taken * advantages.detach()).sum()
        value_loss = advantages.pow(2).sum()
        loss = policy_loss + self.cfg.value_loss_coef * value_loss - self.cfg.entropy_beta * entropy.sum()
        metrics = {
            "policy_loss": policy_loss.item() / steps,
            "value_loss": value_loss.item() / steps,
            "entropy": entropy.mean().item(),
        }
        return loss, metrics
