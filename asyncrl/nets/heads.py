"""Heads on a shared body: policy+value for A3C, Q-values for the Q methods."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import torch
from torch import Tensor, nn

from asyncrl.nets.mlp import mlp_body


class ActorCritic(nn.Module):
    """Softmax policy logits and a linear value, sharing all layers but the output."""

    def __init__(self, body: nn.Module, features: int, num_actions: int) -> None:
        super().__init__()
        self.body = body
        self.policy = nn.Linear(features, num_actions)
        self.value = nn.Linear(features, 1)
        # A near-uniform initial policy; the paper does not state its init.
        nn.init.orthogonal_(self.policy.weight, gain=0.01)
        nn.init.zeros_(self.policy.bias)

    def forward(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        h = self.body(obs)
        return self.policy(h), self.value(h).squeeze(-1)


class QNetwork(nn.Module):
    """One Q-value per action."""

    def __init__(self, body: nn.Module, features: int, num_actions: int) -> None:
        super().__init__()
        self.body = body
        self.q = nn.Linear(features, num_actions)

    def forward(self, obs: Tensor) -> Tensor:
        return self.q(self.body(obs))


HEADS: dict[str, type[nn.Module]] = {"actor_critic": ActorCritic, "q": QNetwork}


def build_model(head: str, obs_space: gym.Space, action_space: gym.Space, model_cfg: Any) -> nn.Module:
    """The network for a learner's ``head`` on these spaces, float32 on the CPU."""
    in_features = math.prod(obs_space.shape)
    body = mlp_body(in_features, model_cfg.hidden, model_cfg.activation)
    model = HEADS[head](body, model_cfg.hidden[-1], int(action_space.n))
    return model.to(torch.float32)
