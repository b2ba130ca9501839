"""SGD with momentum, as the paper's first optimizer variant."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from asyncrl.optim.base import SharedOptimizer


class MomentumSGD(SharedOptimizer):
    """Momentum SGD (paper section 4), elementwise:

        m     <- alpha m + (1 - alpha) d
        theta <- theta - lr m

    The paper keeps one momentum vector per worker (``shared=False``); a
    shared one is available for comparison.
    """

    def __init__(self, params: Sequence[Tensor], state: list[Tensor] | None, shared: bool,
                 alpha: float = 0.9) -> None:
        super().__init__(params, state, shared)
        self.alpha = alpha

    @torch.no_grad()
    def step(self, grads: Sequence[Tensor], lr: float) -> None:
        torch._foreach_mul_(self.state, self.alpha)
        torch._foreach_add_(self.state, list(grads), alpha=1.0 - self.alpha)
        torch._foreach_add_(self.params, self.state, alpha=-lr)
