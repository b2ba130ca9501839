"""Recurrent networks: the LSTM state, its resets, and the one unroll they all use.

A recurrent net is stepped one observation at a time while acting and
unrolled over a segment while learning; the unroll must reproduce the acting
pass exactly, including the state resets where an episode ended inside the
segment. :class:`RecurrentNet` holds that logic once; a subclass only says
how observations become LSTM inputs, how its LSTM cell(s) advance the state,
and how the hidden output becomes the policy and value.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

State = tuple[Tensor, Tensor]
# What a policy head outputs: softmax logits, or a Gaussian's (mean, variance).
PolicyParams = Tensor | tuple[Tensor, ...]


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


class RecurrentNet(nn.Module):
    """Body, LSTM cell(s), heads: ``step`` for acting, ``unroll`` for learning.

    Subclasses implement :meth:`_inputs` (observations [N, ...] to LSTM
    inputs [N, F]), :meth:`_cell` (one LSTM step from a state) and
    :meth:`_heads` (hidden outputs [..., H] to policy parameters and values)
    and set :attr:`state_size`, the width H of the state's h and c.
    """

    recurrent = True

    @property
    def state_size(self) -> int:
        raise NotImplementedError

    def _inputs(self, obs: Tensor) -> Tensor:
        raise NotImplementedError

    def _cell(self, x: Tensor, state: State) -> State:
        raise NotImplementedError

    def _heads(self, h: Tensor) -> tuple[PolicyParams, Tensor]:
        raise NotImplementedError

    def initial_state(self, batch: int = 1) -> State:
        """Zero hidden and cell state for ``batch`` sequences (the start of their episodes)."""
        zeros = torch.zeros(batch, self.state_size)
        return zeros, zeros.clone()

    def step(self, obs: Tensor, state: State) -> tuple[PolicyParams, Tensor, State]:
        """Policy parameters [K, ...], values [K] and the next state for observations [K, ...]."""
        state = self._cell(self._inputs(obs), state)
        params, values = self._heads(state[0])
        return params, values, state

    def unroll(self, obs: Tensor, state: State,
               episode_end: Tensor | None = None) -> tuple[PolicyParams, Tensor, State]:
        """Policy parameters [T, K, ...] and values [T, K] for sequences [T, K, ...] from ``state``.

        Where ``episode_end`` marks an episode that ended inside the sequence,
        the state is zeroed as acting did (see :func:`replay_resets`). The
        body runs once over all T x K observations.
        """
        steps, batch = obs.shape[:2]
        inputs = self._inputs(obs.flatten(0, 1)).view(steps, batch, -1)
        hidden = []
        for t, ended in enumerate(replay_resets(episode_end, steps)):
            if ended is not None:
                state = reset_state(state, ended)
            state = self._cell(inputs[t], state)
            hidden.append(state[0])
        params, values = self._heads(torch.stack(hidden))
        return params, values, state

    def forward(self, obs: Tensor) -> tuple[PolicyParams, Tensor]:
        """One sequence [T, ...] from the zero state (a whole episode, e.g. for inspection)."""
        params, values, _ = self.unroll(obs.unsqueeze(1), self.initial_state())
        first = tuple(p[:, 0] for p in params) if isinstance(params, tuple) else params[:, 0]
        return first, values[:, 0]
