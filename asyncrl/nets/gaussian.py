"""Gaussian actor-critics for Box action spaces (the paper's continuous experiments).

The policy head outputs a linear mean and a variance through SoftPlus. In
the paper's continuous experiments the value network shares no layers with
the policy network; ``value_body`` gives the value its own body (and, for the
recurrent variant, its own LSTM). Without it the value reads the policy's
features, as in the discrete ActorCritic.

Same interface as ``ActorCritic`` / ``RecurrentActorCritic``: ``forward(obs)``
gives ((mean, variance), values); the recurrent one adds ``initial_state``,
``step`` and ``unroll``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from asyncrl.nets.layers import policy_layer
from asyncrl.nets.recurrent import RecurrentNet, State

# Departure: a floor under the SoftPlus variance (the paper gives none), so a
# collapsing variance cannot make log-densities infinite.
MIN_VARIANCE = 1e-4


class GaussianHead(nn.Module):
    """mean = W_mu h + b_mu; variance = softplus(W_v h + b_v) + MIN_VARIANCE."""

    def __init__(self, features: int, action_dim: int) -> None:
        super().__init__()
        self.mean = policy_layer(features, action_dim)  # near-zero initial means
        self.var = nn.Linear(features, action_dim)
        nn.init.orthogonal_(self.var.weight, gain=0.01)
        nn.init.zeros_(self.var.bias)  # initial variance softplus(0) = 0.69, std 0.83

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        return self.mean(h), F.softplus(self.var(h)) + MIN_VARIANCE


class GaussianActorCritic(nn.Module):
    """Feed-forward: ((mean [N, d], variance [N, d]), value [N]) per observation."""

    recurrent = False

    def __init__(self, body: nn.Module, features: int, action_dim: int,
                 value_body: nn.Module | None = None, value_features: int | None = None) -> None:
        super().__init__()
        self.body = body
        self.policy = GaussianHead(features, action_dim)
        self.value_body = value_body
        self.value = nn.Linear(value_features or features, 1)

    def forward(self, obs: Tensor) -> tuple[tuple[Tensor, Tensor], Tensor]:
        h = self.body(obs)
        h_value = h if self.value_body is None else self.value_body(obs)
        return self.policy(h), self.value(h_value).squeeze(-1)


class RecurrentGaussianActorCritic(RecurrentNet):
    """Body, LSTM cell, Gaussian head; the value likewise on its own body and LSTM.

    With a separate value network the state (h, c) holds both LSTMs' states
    side by side, [B, 2 * cells] (policy first), so callers see one (h, c)
    pair either way; the LSTM inputs are likewise the policy's and the value's
    features side by side.
    """

    def __init__(self, body: nn.Module, features: int, action_dim: int, cells: int,
                 value_body: nn.Module | None = None, value_features: int | None = None) -> None:
        super().__init__()
        self.body = body
        self.lstm = nn.LSTMCell(features, cells)
        self.policy = GaussianHead(cells, action_dim)
        self.value_body = value_body
        self.value_lstm = nn.LSTMCell(value_features or features, cells) if value_body is not None else None
        self.value = nn.Linear(cells, 1)

    @property
    def state_size(self) -> int:
        return self.lstm.hidden_size * (1 if self.value_lstm is None else 2)

    def _inputs(self, obs: Tensor) -> Tensor:
        x = self.body(obs)
        return x if self.value_body is None else torch.cat([x, self.value_body(obs)], dim=-1)

    def _cell(self, x: Tensor, state: State) -> State:
        if self.value_lstm is None:
            return self.lstm(x, state)
        h, c = state
        n, f = self.lstm.hidden_size, self.lstm.input_size
        hp, cp = self.lstm(x[:, :f], (h[:, :n], c[:, :n]))
        hv, cv = self.value_lstm(x[:, f:], (h[:, n:], c[:, n:]))
        return torch.cat([hp, hv], dim=1), torch.cat([cp, cv], dim=1)

    def _heads(self, h: Tensor) -> tuple[tuple[Tensor, Tensor], Tensor]:
        n = self.lstm.hidden_size
        h_value = h if self.value_lstm is None else h[..., n:]
        return self.policy(h[..., :n]), self.value(h_value).squeeze(-1)
