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

from asyncrl.nets.heads import State, _policy_layer, replay_resets, reset_state

# Departure: a floor under the SoftPlus variance (the paper gives none), so a
# collapsing variance cannot make log-densities infinite.
MIN_VARIANCE = 1e-4


class GaussianHead(nn.Module):
    """mean = W_mu h + b_mu; variance = softplus(W_v h + b_v) + MIN_VARIANCE."""

    def __init__(self, features: int, action_dim: int) -> None:
        super().__init__()
        self.mean = _policy_layer(features, action_dim)  # near-zero initial means
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


class RecurrentGaussianActorCritic(nn.Module):
    """Body, LSTM cell, Gaussian head; the value likewise on its own body and LSTM.

    With a separate value network the state (h, c) holds both LSTMs' states
    side by side, [B, 2 * cells] (policy first), so callers see one (h, c)
    pair either way.
    """

    recurrent = True

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

    def initial_state(self, batch: int = 1) -> State:
        """Zero hidden and cell states for ``batch`` sequences (the start of an episode)."""
        zeros = torch.zeros(batch, self.state_size)
        return zeros, zeros.clone()

    def _cells(self, x: Tensor, x_value: Tensor | None, state: State) -> tuple[Tensor, Tensor, State]:
        """One LSTM step: the policy's and the value's hidden outputs and the next state."""
        h, c = state
        if self.value_lstm is None:
            h, c = self.lstm(x, (h, c))
            return h, h, (h, c)
        n = self.lstm.hidden_size
        hp, cp = self.lstm(x, (h[:, :n], c[:, :n]))
        hv, cv = self.value_lstm(x_value, (h[:, n:], c[:, n:]))
        return hp, hv, (torch.cat([hp, hv], dim=1), torch.cat([cp, cv], dim=1))

    def step(self, obs: Tensor, state: State) -> tuple[tuple[Tensor, Tensor], Tensor, State]:
        """(mean, variance) [B, d], value [B] and the next state for observations [B, ...]."""
        x_value = None if self.value_body is None else self.value_body(obs)
        hp, hv, state = self._cells(self.body(obs), x_value, state)
        return self.policy(hp), self.value(hv).squeeze(-1), state

    def unroll(self, obs: Tensor, state: State,
               episode_end: Tensor | None = None) -> tuple[tuple[Tensor, Tensor], Tensor, State]:
        """(mean, variance) [T, K, d] and values [T, K] for sequences [T, K, ...] from ``state``.

        Resets where an episode ended inside the sequence as
        :meth:`RecurrentActorCritic.unroll` does.
        """
        steps, batch = obs.shape[:2]
        flat = obs.flatten(0, 1)
        features = self.body(flat).view(steps, batch, -1)
        value_features = None if self.value_body is None else self.value_body(flat).view(steps, batch, -1)
        policy_out, value_out = [], []
        for t, ended in enumerate(replay_resets(episode_end, steps)):
            if ended is not None:
                state = reset_state(state, ended)
            hp, hv, state = self._cells(features[t], None if value_features is None else value_features[t], state)
            policy_out.append(hp)
            value_out.append(hv)
        return self.policy(torch.stack(policy_out)), self.value(torch.stack(value_out)).squeeze(-1), state

    def forward(self, obs: Tensor) -> tuple[tuple[Tensor, Tensor], Tensor]:
        """One sequence [T, ...] from the zero state (a whole episode, e.g. for inspection)."""
        (mean, var), values, _ = self.unroll(obs.unsqueeze(1), self.initial_state())
        return (mean[:, 0], var[:, 0]), values[:, 0]
