"""Heads for discrete actions on a shared body: policy+value for A3C, Q-values for the Q methods.

:class:`RecurrentActorCritic` (A3C-LSTM) puts an LSTM cell between the body
and the heads. The factories in ``asyncrl.nets.factories`` pick the body and
the head.
"""

from __future__ import annotations

from torch import Tensor, nn

from asyncrl.nets.layers import policy_layer
from asyncrl.nets.recurrent import RecurrentNet, State


class ActorCritic(nn.Module):
    """Softmax policy logits and a linear value, sharing all layers but the output."""

    recurrent = False

    def __init__(self, body: nn.Module, features: int, num_actions: int) -> None:
        super().__init__()
        self.body = body
        self.policy = policy_layer(features, num_actions)
        self.value = nn.Linear(features, 1)

    def forward(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        h = self.body(obs)
        return self.policy(h), self.value(h).squeeze(-1)


class RecurrentActorCritic(RecurrentNet):
    """A3C-LSTM: body, then an LSTM cell, then the policy and value heads.

    ``step`` advances one observation from a state (acting); ``unroll`` replays
    a sequence from a state (learning), batching the body over the sequence.
    """

    def __init__(self, body: nn.Module, features: int, num_actions: int, cells: int) -> None:
        super().__init__()
        self.body = body
        self.lstm = nn.LSTMCell(features, cells)
        self.policy = policy_layer(cells, num_actions)
        self.value = nn.Linear(cells, 1)

    @property
    def state_size(self) -> int:
        return self.lstm.hidden_size

    def _inputs(self, obs: Tensor) -> Tensor:
        return self.body(obs)

    def _cell(self, x: Tensor, state: State) -> State:
        return self.lstm(x, state)

    def _heads(self, h: Tensor) -> tuple[Tensor, Tensor]:
        return self.policy(h), self.value(h).squeeze(-1)


class QNetwork(nn.Module):
    """One Q-value per action."""

    recurrent = False

    def __init__(self, body: nn.Module, features: int, num_actions: int) -> None:
        super().__init__()
        self.body = body
        self.q = nn.Linear(features, num_actions)

    def forward(self, obs: Tensor) -> Tensor:
        return self.q(self.body(obs))
