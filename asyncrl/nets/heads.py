"""Heads on a shared body: policy+value for A3C, Q-values for the Q methods.

``build_model`` picks the body from the observation: the paper's CNN for
image stacks, an MLP for vectors; with ``model.lstm`` an LSTM follows the body
(A3C-LSTM). Box action spaces get the Gaussian actor-critics of
``asyncrl.nets.gaussian``.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import torch
from torch import Tensor, nn

from asyncrl.config import ConfigError
from asyncrl.nets.atari import AtariBody
from asyncrl.nets.mlp import mlp_body

State = tuple[Tensor, Tensor]


def _policy_layer(features: int, num_actions: int) -> nn.Linear:
    # A near-uniform initial policy; the paper does not state its init.
    layer = nn.Linear(features, num_actions)
    nn.init.orthogonal_(layer.weight, gain=0.01)
    nn.init.zeros_(layer.bias)
    return layer


class ActorCritic(nn.Module):
    """Softmax policy logits and a linear value, sharing all layers but the output."""

    recurrent = False

    def __init__(self, body: nn.Module, features: int, num_actions: int) -> None:
        super().__init__()
        self.body = body
        self.policy = _policy_layer(features, num_actions)
        self.value = nn.Linear(features, 1)

    def forward(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        h = self.body(obs)
        return self.policy(h), self.value(h).squeeze(-1)


class RecurrentActorCritic(nn.Module):
    """A3C-LSTM: body, then an LSTM cell, then the policy and value heads.

    ``step`` advances one observation from a state (acting); ``unroll`` replays
    a sequence from a state (learning), batching the body over the sequence.
    """

    recurrent = True

    def __init__(self, body: nn.Module, features: int, num_actions: int, cells: int) -> None:
        super().__init__()
        self.body = body
        self.lstm = nn.LSTMCell(features, cells)
        self.policy = _policy_layer(cells, num_actions)
        self.value = nn.Linear(cells, 1)

    def initial_state(self, batch: int = 1) -> State:
        """Zero hidden and cell state for ``batch`` sequences (the start of their episodes)."""
        zeros = torch.zeros(batch, self.lstm.hidden_size)
        return zeros, zeros.clone()

    def step(self, obs: Tensor, state: State) -> tuple[Tensor, Tensor, State]:
        """Logits [K, A], values [K] and the next state for observations [K, ...]."""
        h, c = self.lstm(self.body(obs), state)
        return self.policy(h), self.value(h).squeeze(-1), (h, c)

    def unroll(self, obs: Tensor, state: State, episode_end: Tensor | None = None) -> tuple[Tensor, Tensor, State]:
        """Logits [T, K, A] and values [T, K] for sequences [T, K, ...] starting from ``state``.

        Where ``episode_end`` marks an episode that ended inside the sequence,
        the state is zeroed as acting did (see :func:`replay_resets`). The
        body runs once over all T x K observations.
        """
        steps, batch = obs.shape[:2]
        features = self.body(obs.flatten(0, 1)).view(steps, batch, -1)
        hidden = []
        for t, ended in enumerate(replay_resets(episode_end, steps)):
            if ended is not None:
                state = reset_state(state, ended)
            state = self.lstm(features[t], state)
            hidden.append(state[0])
        out = torch.stack(hidden)
        return self.policy(out), self.value(out).squeeze(-1), state

    def forward(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        """One sequence [T, ...] from the zero state (a whole episode, e.g. for inspection)."""
        logits, values, _ = self.unroll(obs.unsqueeze(1), self.initial_state())
        return logits[:, 0], values[:, 0]


def reset_state(state: State, rows: Tensor) -> State:
    """``state`` with the rows where ``rows`` [K] is true set to zero (new episodes there)."""
    keep = (~rows).to(state[0].dtype).unsqueeze(1)
    return state[0] * keep, state[1] * keep


def replay_resets(episode_end: Tensor | None, steps: int) -> list[Tensor | None]:
    """For each of ``steps`` replayed steps, the rows to zero before it (None: none).

    ``episode_end[t]`` [K] marks rows whose episode ended after step t; acting
    zeroed their state before step t + 1, so the replay does too. The last
    step is never reset: a segment's final row is the state to bootstrap
    from (after a truncation, the episode's last observation).
    """
    resets: list[Tensor | None] = [None] * steps
    if episode_end is not None:
        for t in range(1, min(steps - 1, episode_end.shape[0])):
            if episode_end[t - 1].any():
                resets[t] = episode_end[t - 1]
    return resets


class QNetwork(nn.Module):
    """One Q-value per action."""

    recurrent = False

    def __init__(self, body: nn.Module, features: int, num_actions: int) -> None:
        super().__init__()
        self.body = body
        self.q = nn.Linear(features, num_actions)

    def forward(self, obs: Tensor) -> Tensor:
        return self.q(self.body(obs))


def build_body(obs_space: gym.Space, model_cfg: Any) -> tuple[nn.Module, int]:
    """The body for this observation space and the width of its output."""
    if len(obs_space.shape) == 3:
        return AtariBody(in_channels=obs_space.shape[0]), AtariBody.features
    in_features = math.prod(obs_space.shape)
    return mlp_body(in_features, model_cfg.hidden, model_cfg.activation), model_cfg.hidden[-1]


def build_model(head: str, obs_space: gym.Space, action_space: gym.Space, model_cfg: Any) -> nn.Module:
    """The network for a learner's ``head`` on these spaces, float32 on the CPU.

    A Box action space gets a Gaussian actor-critic (``asyncrl.nets.gaussian``)
    whose value network has its own body unless ``model.separate_value`` is
    false; a discrete one shares the body (``model.separate_value`` must not
    be true).
    """
    separate = getattr(model_cfg, "separate_value", None)
    if isinstance(action_space, gym.spaces.Box):
        return _build_gaussian(obs_space, int(action_space.shape[0]), model_cfg, separate is not False)
    if separate:
        raise ConfigError("model.separate_value=true: a separate value network is supported for Box "
                          "(continuous) action spaces only")
    body, features = build_body(obs_space, model_cfg)
    num_actions = int(action_space.n)
    if head == "q":
        return QNetwork(body, features, num_actions)
    if getattr(model_cfg, "lstm", False):
        return RecurrentActorCritic(body, features, num_actions, model_cfg.lstm_size)
    return ActorCritic(body, features, num_actions)


def _build_gaussian(obs_space: gym.Space, action_dim: int, model_cfg: Any, separate: bool) -> nn.Module:
    from asyncrl.nets.gaussian import GaussianActorCritic, RecurrentGaussianActorCritic  # imports this module

    body, features = build_body(obs_space, model_cfg)
    value_body, value_features = build_body(obs_space, model_cfg) if separate else (None, None)
    if getattr(model_cfg, "lstm", False):
        return RecurrentGaussianActorCritic(body, features, action_dim, model_cfg.lstm_size, value_body,
                                            value_features)
    return GaussianActorCritic(body, features, action_dim, value_body, value_features)
