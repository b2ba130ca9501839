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


class GreedyPolicy:
    """The highest-scoring action: policy logits (actor-critic) or Q-values.

    Carries the LSTM state of a recurrent model through an episode.
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.recurrent = getattr(model, "recurrent", False)
        self.reset()

    def reset(self) -> None:
        """Start of an episode."""
        self.state = self.model.initial_state() if self.recurrent else None

    def __call__(self, obs: torch.Tensor) -> int:
        if self.recurrent:
            scores, _, self.state = self.model.step(obs.unsqueeze(0), self.state)
        else:
            out = self.model(obs.unsqueeze(0))
            scores = out[0] if isinstance(out, tuple) else out
        return int(scores[0].argmax())


@torch.no_grad()
def evaluate_greedy(model: nn.Module, env_cfg: Any, episodes: int, seed: int, max_steps: int) -> EvalResult:
    """Play ``episodes`` whole episodes greedily; returns are the game's own score."""
    env = make_env(env_cfg)
    policy = GreedyPolicy(model)
    result = EvalResult([], [])
    try:
        for episode in range(episodes):
            obs, _ = env.reset(seed=seed + episode)
            policy.reset()
            total, steps, done = 0.0, 0, False
            while not done and steps < max_steps:
                obs, reward, terminated, truncated, info = env.step(policy(torch.as_tensor(obs)))
                total += float(info.get("raw_reward", reward))
                steps += 1
                done = terminated or truncated
            result.returns.append(total)
            result.lengths.append(steps)
    finally:
        env.close()
    return result
