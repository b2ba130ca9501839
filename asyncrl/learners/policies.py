"""Action distributions for the actor-critic: softmax (discrete) and Gaussian (Box).

Pure and batch-generic: every function takes the policy head's output for N
observations (``params``) and works on all N rows at once. Sampling happens
in numpy with the worker's own generator (acting runs under ``no_grad``, one
small batch at a time); log-probabilities and entropies are torch tensors
with gradients (learning).

- :class:`CategoricalPolicy`: ``params`` are logits [N, A].
- :class:`GaussianPolicy`: ``params`` are (mean [N, d], variance [N, d]), a
  diagonal Gaussian as in the paper's continuous experiments. Sampled actions
  are clipped to the action bounds, and :meth:`GaussianPolicy.log_prob` is the
  log-probability of the clipped action under the clipped distribution (all
  the mass beyond a bound sits on the bound), so the stored action is the one
  executed and its probability is exact.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

# What a policy head outputs for N observations: logits, or (mean, variance).
PolicyParams = Any


class Policy(Protocol):
    """The four things the learners and evaluation need from a distribution."""

    def sample(self, params: PolicyParams, rng: np.random.Generator) -> np.ndarray: ...

    def log_prob(self, params: PolicyParams, actions: Tensor) -> Tensor: ...

    def entropy(self, params: PolicyParams) -> Tensor: ...

    def greedy(self, params: PolicyParams) -> np.ndarray: ...


def select_rows(params: PolicyParams, index: Any) -> PolicyParams:
    """``params`` restricted to some rows (``index`` a slice or index tensor)."""
    if isinstance(params, tuple):
        return tuple(p[index] for p in params)
    return params[index]


def unflatten_rows(params: PolicyParams, rows: tuple[int, ...]) -> PolicyParams:
    """``params`` for N = prod(rows) observations, with the row axis split into ``rows``."""
    if isinstance(params, tuple):
        return tuple(p.view(*rows, *p.shape[1:]) for p in params)
    return params.view(*rows, *params.shape[1:])


class CategoricalPolicy:
    """Softmax over A actions; ``params`` are logits [N, A]."""

    def sample(self, logits: Tensor, rng: np.random.Generator) -> np.ndarray:
        """One action per row, int64 [N], drawn from softmax(logits) with ``rng``.

        The Gumbel-max trick: argmax(logits + Gumbel noise) is an exact
        sample, and at these small batches several times cheaper than a
        softmax followed by torch.multinomial.
        """
        scores = logits.detach().numpy()
        return np.argmax(scores - np.log(-np.log(rng.random(scores.shape))), axis=-1)

    def log_prob(self, logits: Tensor, actions: Tensor) -> Tensor:
        """log pi(a|s) [...] via log_softmax (no log of a zero probability); any leading dims."""
        return F.log_softmax(logits, dim=-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)

    def entropy(self, logits: Tensor) -> Tensor:
        """H(pi(.|s)) [N]."""
        log_probs = F.log_softmax(logits, dim=-1)
        return -(log_probs.exp() * log_probs).sum(dim=-1)

    def greedy(self, logits: Tensor) -> np.ndarray:
        """The most probable action per row, int64 [N]."""
        return logits.detach().argmax(dim=-1).numpy().astype(np.int64)


class GaussianPolicy:
    """Diagonal Gaussian N(mean, variance) clipped to the bounds [low, high].

    ``params`` are (mean [N, d], variance [N, d]). Sampled actions are
    clipped to the bounds; infinite bounds clip nothing.
    """

    def __init__(self, low: np.ndarray, high: np.ndarray) -> None:
        self.low = np.asarray(low, dtype=np.float32)
        self.high = np.asarray(high, dtype=np.float32)
        self.low_t, self.high_t = torch.from_numpy(self.low), torch.from_numpy(self.high)
        # Stand-ins for infinite bounds: never selected, but keep the unused branch finite
        # (an infinite one would turn its zero gradient into NaN).
        self.low_finite = torch.where(torch.isfinite(self.low_t), self.low_t, torch.zeros(()))
        self.high_finite = torch.where(torch.isfinite(self.high_t), self.high_t, torch.zeros(()))

    def sample(self, params: tuple[Tensor, Tensor], rng: np.random.Generator) -> np.ndarray:
        """mean + sqrt(variance) * noise, clipped to the bounds: float32 [N, d]."""
        mean, var = (p.detach().numpy() for p in params)
        raw = mean + np.sqrt(var) * rng.standard_normal(mean.shape)
        return np.clip(raw, self.low, self.high).astype(np.float32)

    def log_prob(self, params: tuple[Tensor, Tensor], actions: Tensor) -> Tensor:
        """log pi(a|s) [N] of clipped actions [N, d], summed over the d independent dims.

        Inside the bounds it is the Gaussian log-density; an action on a bound
        gets the log of the mass the clip put there, log P(x >= high) =
        log Phi((mean - high) / std) or log P(x <= low) = log Phi((low - mean) / std).
        """
        mean, var = params
        std = var.sqrt()
        density = -0.5 * (actions - mean).pow(2) / var - 0.5 * torch.log(2 * math.pi * var)
        upper = torch.special.log_ndtr((mean - self.high_finite) / std)
        lower = torch.special.log_ndtr((self.low_finite - mean) / std)
        per_dim = torch.where(actions >= self.high_t, upper, torch.where(actions <= self.low_t, lower, density))
        return per_dim.sum(dim=-1)

    def entropy(self, params: tuple[Tensor, Tensor]) -> Tensor:
        """Entropy [N] of the unclipped Gaussian, 0.5 log(2 pi e variance) summed over dims (paper)."""
        _, var = params
        return (0.5 * torch.log(2 * math.pi * math.e * var)).sum(dim=-1)

    def greedy(self, params: tuple[Tensor, Tensor]) -> np.ndarray:
        """The mean, clipped to the bounds: float32 [N, d]."""
        return np.clip(params[0].detach().numpy(), self.low, self.high).astype(np.float32)


def policy_for(action_space: gym.Space) -> CategoricalPolicy | GaussianPolicy:
    """The distribution for an action space: softmax for Discrete, Gaussian for a 1-D Box."""
    if isinstance(action_space, gym.spaces.Discrete):
        return CategoricalPolicy()
    if isinstance(action_space, gym.spaces.Box) and len(action_space.shape) == 1:
        return GaussianPolicy(action_space.low, action_space.high)
    raise ValueError(f"no policy for the action space {action_space}")
