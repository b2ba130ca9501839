"""A3C: asynchronous advantage actor-critic, feed-forward (paper Algorithm S3)."""

from __future__ import annotations

import numpy as np
import torch
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
        self.state = self.segment_state = None

    @property
    def segment_length(self) -> int:
        return self.cfg.t_max

    def on_episode_start(self, envs: np.ndarray | None = None) -> None:
        if not self.recurrent:
            return
        if envs is None or self.state is None:
            self.state = None  # sized to the batch at the next act
        else:
            self.state = self.model.reset_state(self.state, torch.as_tensor(envs))

    def on_segment_start(self) -> None:
        if self.recurrent and self.state is not None:
            self.segment_state = (self.state[0].detach(), self.state[1].detach())

    def forward_segment(self, segment: Segment) -> tuple[Tensor, Tensor]:
        """Logits [T + 1, K, A] and values [T + 1, K] for the segment's observations, in one batch."""
        if self.recurrent:
            logits, values, _ = self.model.unroll(segment.obs, self.segment_state, segment.episode_end)
            return logits, values
        steps_plus_one, envs = segment.obs.shape[:2]
        logits, values = self.model(segment.obs.flatten(0, 1))
        return logits.view(steps_plus_one, envs, -1), values.view(steps_plus_one, envs)

    def act(self, obs: Tensor, global_step: int) -> np.ndarray:
        if self.recurrent:
            if self.state is None:
                self.state = self.segment_state = self.model.initial_state(obs.shape[0])
            logits, _, self.state = self.model.step(obs, self.state)
        else:
            logits, _ = self.model(obs)
        return sample_categorical(logits.numpy(), self.rng)

    def loss(self, segment: Segment, target_net: nn.Module | None) -> tuple[Tensor, Metrics]:
        steps = len(segment)
        # One batched forward over the segment and its last state (recomputing is
        # cheaper than keeping a graph per acting step).
        logits, values = self.forward_segment(segment)
        log_probs = F.log_softmax(logits[:steps], dim=-1)
        bootstrap = torch.where(segment.terminated[-1], 0.0, values[steps].detach())
        returns = nstep_returns(segment.rewards, segment.terminated, bootstrap, self.cfg.gamma)
        advantages = returns - values[:steps]
        log_prob_taken = log_probs.gather(-1, segment.actions.unsqueeze(-1)).squeeze(-1)
        entropy = -(log_probs.exp() * log_probs).sum(dim=-1)
        policy_loss = -(log_prob_taken * advantages.detach()).sum()
        value_loss = advantages.pow(2).sum()
        loss = policy_loss + self.cfg.value_loss_coef * value_loss - self.cfg.entropy_beta * entropy.sum()
        samples = advantages.numel()
        metrics = {
            "policy_loss": policy_loss.item() / samples,
            "value_loss": value_loss.item() / samples,
            "entropy": entropy.mean().item(),
        }
        return loss, metrics


def sample_categorical(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One action per row of ``logits`` [K, A], drawn from softmax(logits).

    The Gumbel-max trick: argmax(logits + Gumbel noise) is an exact sample,
    and at these small batches several times cheaper than a softmax followed
    by torch.multinomial.
    """
    return np.argmax(logits - np.log(-np.log(rng.random(logits.shape))), axis=1)
