"""Learning-rate schedule driven by the global step (and, on a time budget, the clock)."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class LinearDecay:
    """lr = lr0 * max(0, 1 - done), or lr0 when not annealing.

    ``done`` is the share of the run's budget spent: T / total_steps, with T
    the global step shared by all workers, so every worker sees the same
    rate (the paper anneals to 0 over training). With a ``clock`` (origin,
    deadline) in epoch seconds, ``done`` is the larger of that and the share
    of the time from origin to deadline, so a run on a time budget ends with
    its lr at 0 whichever budget runs out first.
    """

    lr0: float
    total_steps: int
    anneal: bool = True
    clock: tuple[float, float] | None = None

    def done(self, global_step: int, now: float | None = None) -> float:
        """The share of the budget spent at ``global_step`` (and time ``now``)."""
        share = global_step / self.total_steps
        if self.clock is not None:
            origin, deadline = self.clock
            now = time.time() if now is None else now
            share = max(share, (now - origin) / max(deadline - origin, 1e-9))
        return share

    def __call__(self, global_step: int, now: float | None = None) -> float:
        if not self.anneal:
            return self.lr0
        return self.lr0 * max(0.0, 1.0 - self.done(global_step, now))
