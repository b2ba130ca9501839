"""Per-worker epsilon-greedy exploration (paper section 5.1).

Each worker samples its own final epsilon once, from a small discrete
distribution, and anneals linearly from 1 to it over the first
``anneal_steps`` global steps; different workers thus explore differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def sample_final_epsilon(rng: np.random.Generator, finals: Sequence[float], probs: Sequence[float]) -> float:
    """Draw one worker's final epsilon (paper: {0.1, 0.01, 0.5} w.p. {0.4, 0.3, 0.3})."""
    return float(finals[rng.choice(len(finals), p=np.asarray(probs, dtype=float))])


@dataclass(frozen=True)
class EpsilonSchedule:
    """epsilon(T) = 1 + (final - 1) * min(1, T / anneal_steps)."""

    final: float
    anneal_steps: int

    def __call__(self, global_step: int) -> float:
        fraction = min(1.0, global_step / self.anneal_steps)
        return 1.0 + (self.final - 1.0) * fraction
