"""Learning-rate schedule driven by the global step (and, on a time budget, the clock)."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class LinearDecay:
    """lr = lr0 * max(0, 1 - done), or lr0 when not annealing; times T / warmup_steps while T < warmup_steps.

    ``done`` is the share of the run's budget spent: T / total_steps, with T
    the global step shared by all workers, so every worker sees the same
    rate (the paper anneals to 0 over training). With a ``clock`` (origin,
    deadline) in epoch seconds, ``done`` is the larger of that and the share
    of the time from origin to deadline, so a run on a time budget ends with
    its lr at 0 whichever budget runs out first. A ``warmup_steps`` > 0
    raises the lr linearly from 0 over the first global steps (not in the
    paper): the early updates, made while the value is still learning the
    reward's scale, are the ones that can silence a network's first layers.
    On Pong at the default lr it delayed that, to the warm-up's end, rather
    than prevented it (docs/results.md).
    """

    lr0: float
    total_steps: int
    anneal: bool = True
    clock: tuple[float, float] | None = None
    warmup_steps: int = 0

    def done(self, global_step: int, now: float | None = None) -> float:
        """The share of the budget spent at ``global_step`` (and time ``now``)."""
        share = global_step / self.total_steps
        if self.clock is not None:
            origin, deadline = self.clock
            now = time.time() if now is None else now
            share = max(share, (now - origin) / max(deadline - origin, 1e-9))
        return share

    def warmup(self, global_step: int) -> float:
        """The warm-up's factor at ``global_step``: T / warmup_steps, and 1 from warmup_steps on."""
        return min(1.0, global_step / self.warmup_steps) if self.warmup_steps > 0 else 1.0

    def __call__(self, global_step: int, now: float | None = None) -> float:
        decay = max(0.0, 1.0 - self.done(global_step, now)) if self.anneal else 1.0
        return self.lr0 * self.warmup(global_step) * decay
