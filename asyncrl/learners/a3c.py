"""A3C: asynchronous advantage actor-critic, feed-forward and LSTM (paper Algorithm S3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn

from asyncrl.algorithm import Algorithm
from asyncrl.config import AlgoConfig, require, require_positive
from asyncrl.learners.base import Learner, Metrics, Segment
from asyncrl.learners.policies import PolicyParams, policy_for, select_rows, unflatten_rows
from asyncrl.learners.returns import nstep_returns
from asyncrl.nets import actor_critic, reset_state


@dataclass
class A3CConfig(AlgoConfig):
    """Asynchronous advantage actor-critic (paper Algorithm S3)."""

    name: str = "a3c"  # the learner; set by the option chosen
    t_max: int = 5  # agent steps per segment: each update uses up to t_max-step returns
    entropy_beta: float = 0.01  # weight of the policy-entropy bonus (beta)
    value_loss_coef: float = 0.5  # weight of the value loss (R - V)^2 against the policy loss

    def check(self) -> None:
        super().check()
        require_positive(self, "t_max")
        require(self.entropy_beta >= 0, "entropy_beta", "must be >= 0", self.entropy_beta)
        require(self.value_loss_coef > 0, "value_loss_coef", "must be > 0", self.value_loss_coef)


class A3C(Learner):
    """Softmax (discrete) or Gaussian (Box) policy and a value; n-step returns over t_max.

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
    true terminal. The distribution (``asyncrl.learners.policies``) gives
    log pi and H: a softmax for discrete actions, a Gaussian clipped to the
    bounds for Box actions.
    """

    # Evaluation samples, as the agent acted while it learned: a stochastic policy's greedy action can
    # loop forever (Breakout without FIRE), and its entropy is part of what was learned.
    evaluation_policy = "actions sampled from the policy"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy_for(self.action_space)
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
            self.state = reset_state(self.state, torch.as_tensor(envs))

    def on_segment_start(self) -> None:
        if self.recurrent and self.state is not None:
            self.segment_state = (self.state[0].detach(), self.state[1].detach())

    def forward_segment(self, segment: Segment) -> tuple[PolicyParams, Tensor]:
        """Policy parameters [T + 1, K, ...] and values [T + 1, K] for the segment, in one batch."""
        if self.recurrent:
            params, values, _ = self.model.unroll(segment.obs, self.segment_state, segment.episode_end)
            return params, values
        rows = tuple(segment.obs.shape[:2])
        params, values = self.model(segment.obs.flatten(0, 1))
        return unflatten_rows(params, rows), values.view(rows)

    def act(self, obs: Tensor, global_step: int) -> np.ndarray:
        if self.recurrent and self.state is None:
            self.state = self.segment_state = self.model.initial_state(obs.shape[0])
        actions, self.state = self.play(obs, self.state)
        return actions

    def play(self, obs: Tensor, state: Any = None, deterministic: bool = False) -> tuple[np.ndarray, Any]:
        """Sampled from the policy (training and evaluation alike), or its mode when deterministic."""
        if self.recurrent:
            state = self.model.initial_state(obs.shape[0]) if state is None else state
            params, _, state = self.model.step(obs, state)
        else:
            params, _ = self.model(obs)
        actions = self.policy.greedy(params) if deterministic else self.policy.sample(params, self.rng)
        return actions, state

    def loss(self, segment: Segment, target_net: nn.Module | None) -> tuple[Tensor, Metrics]:
        steps = len(segment)
        # One batched forward over the segment and its last state (recomputing is
        # cheaper than keeping a graph per acting step).
        params, values = self.forward_segment(segment)
        params = select_rows(params, slice(0, steps))
        returns = nstep_returns(segment.rewards, segment.terminated, values[steps].detach(), self.cfg.gamma)
        advantages = returns - values[:steps]
        log_prob_taken = self.policy.log_prob(params, segment.actions)
        entropy = self.policy.entropy(params)
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



ALGORITHMS = [
    Algorithm("a3c", A3CConfig, A3C, actor_critic, action_spaces=(gym.spaces.Discrete, gym.spaces.Box),
              recurrent=True),
]
