"""Pure target computations: n-step returns and one-step TD targets.

All take 1-D tensors over the T transitions of one segment. ``terminated[i]``
is true only when transition i ended the episode for real (a gymnasium
``terminated``); a time-limit truncation is *not* terminal and bootstraps.
"""

from __future__ import annotations

import torch
from torch import Tensor


def nstep_returns(rewards: Tensor, terminated: Tensor, bootstrap: Tensor | float, gamma: float) -> Tensor:
    """Forward-view returns, walking backwards from the segment end.

    R_T = bootstrap (the value of the state after the last transition),
    R_i = r_i + gamma * R_{i+1}, with R_{i+1} replaced by 0 when transition i
    is terminal. The last transition thus gets a one-step return and the first
    a T-step return (paper Algorithms S2 and S3).
    """
    # Segments are short (t_max steps): a loop over Python floats beats tensor ops.
    running = float(torch.as_tensor(bootstrap).detach())
    out = [0.0] * rewards.shape[0]
    for i, (reward, done) in enumerate(zip(reversed(rewards.tolist()), reversed(terminated.tolist()), strict=False)):
        running = reward + (0.0 if done else gamma * running)
        out[-1 - i] = running
    return torch.tensor(out, dtype=rewards.dtype)


def one_step_targets(rewards: Tensor, terminated: Tensor, next_values: Tensor, gamma: float) -> Tensor:
    """y_i = r_i, or r_i + gamma * next_values[i] unless transition i is terminal.

    ``next_values[i]`` is max_a Q(s_{i+1}, a; theta-) for Q-learning and
    Q(s_{i+1}, a_{i+1}; theta-) for Sarsa (paper Algorithm 1).
    """
    not_terminal = 1.0 - terminated.to(rewards.dtype)
    return rewards + gamma * not_terminal * next_values
