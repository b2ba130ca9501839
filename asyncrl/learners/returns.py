"""Pure target computations: n-step returns and one-step TD targets.

All take tensors over the T transitions of one segment ([T], or [T, K] for K envs). ``terminated[i]``
is true only when transition i ended the episode for real (a gymnasium
``terminated``); a time-limit truncation is *not* terminal and bootstraps.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def nstep_returns(rewards: Tensor, terminated: Tensor, bootstrap: Tensor | float, gamma: float) -> Tensor:
    """Forward-view returns, walking backwards from the segment end.

    R_T = bootstrap (the value of the state after the last transition),
    R_i = r_i + gamma * R_{i+1}, with R_{i+1} replaced by 0 when transition i
    is terminal. The last transition thus gets a one-step return and the first
    a T-step return (paper Algorithms S2 and S3). ``rewards`` and
    ``terminated`` are [T] or [T, K] (K envs side by side, ``bootstrap`` [K]);
    a terminal inside the segment starts a new chain of returns above it.
    """
    # Segments are short (t_max steps): a loop over numpy rows beats tensor ops.
    r = rewards.numpy()
    keep = gamma * (1.0 - terminated.numpy())
    running = np.broadcast_to(torch.as_tensor(bootstrap).detach().numpy(), r.shape[1:]).astype(r.dtype)
    out = np.empty_like(r)
    for i in range(r.shape[0] - 1, -1, -1):
        running = r[i] + keep[i] * running
        out[i] = running
    return torch.from_numpy(out)


def one_step_targets(rewards: Tensor, terminated: Tensor, next_values: Tensor, gamma: float) -> Tensor:
    """y_i = r_i, or r_i + gamma * next_values[i] unless transition i is terminal.

    ``next_values[i]`` is max_a Q(s_{i+1}, a; theta-) for Q-learning and
    Q(s_{i+1}, a_{i+1}; theta-) for Sarsa (paper Algorithm 1).
    """
    not_terminal = 1.0 - terminated.to(rewards.dtype)
    return rewards + gamma * not_terminal * next_values
