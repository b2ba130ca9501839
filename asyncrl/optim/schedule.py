"""Learning-rate schedule driven by the global step."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinearDecay:
    """lr(T) = lr0 * max(0, 1 - T / total_steps), or lr0 when not annealing.

    The paper anneals the learning rate linearly to 0 over training; T is the
    global step shared by all workers, so every worker sees the same rate.
    """

    lr0: float
    total_steps: int
    anneal: bool = True

    def __call__(self, global_step: int) -> float:
        if not self.anneal:
            return self.lr0
        return self.lr0 * max(0.0, 1.0 - global_step / self.total_steps)
