"""Greedy evaluation of a network: the main process's final score of a run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from asyncrl.envs import make_env


@dataclass
class EvalResult:
    """Returns and lengths of the evaluation episodes."""

    returns: list[float]
    lengths: list[int]

    @property
    def mean(self) -> float | None:
        return sum(self.returns) / len(self.returns) if self.returns else None


def action_scores(model: nn.Module, obs: torch.Tensor) -> torch.Tensor:
    """Policy logits (actor-critic) or Q-values (Q-network) for one observation."""
    out = model(obs.unsqueeze(0))
    return (out[0] if isinstance(out, tuple) else out)[0]


@torch.no_grad()
def evaluate_greedy(model: nn.Module, env_cfg: Any, episodes: int, seed: int, max_steps: int) -> EvalResult:
    """Play ``episodes`` episodes taking the highest-scoring action each step."""
    env = make_env(env_cfg)
    result = EvalResult([], [])
    try:
        for episode in range(episodes):
            obs, _ = env.reset(seed=seed + episode)
            total, steps, done = 0.0, 0, False
            while not done and steps < max_steps:
                action = int(action_scores(model, torch.as_tensor(obs)).argmax())
                obs, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                steps += 1
                done = terminated or truncated
            result.returns.append(total)
            result.lengths.append(steps)
    finally:
        env.close()
    return result
