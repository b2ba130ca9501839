"""RMSProp as in the paper, with epsilon inside the square root."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from asyncrl.optim.base import SharedOptimizer


class RMSProp(SharedOptimizer):
    """Non-centred RMSProp (paper supplementary section 7), elementwise:

        g     <- alpha g + (1 - alpha) d^2
        theta <- theta - lr d / sqrt(g + eps)

    ``eps`` sits inside the square root (torch.optim.RMSprop adds it outside;
    with eps = 0.1 the two differ a lot, and sqrt of the all-zero statistics
    at the start is also several times slower on these CPUs). With shared
    statistics ``g`` is one set of tensors in shared memory that every worker
    updates without a lock; otherwise each worker keeps its own.
    """

    def __init__(self, params: Sequence[Tensor], state: list[Tensor] | None, shared: bool,
                 alpha: float = 0.99, eps: float = 0.1) -> None:
        super().__init__(params, state, shared)
        self.alpha = alpha
        self.eps = eps
        # Scratch space for 1 / sqrt(g + eps), this worker's own (never shared).
        self.scale = [torch.empty_like(p) for p in self.params]

    @torch.no_grad()
    def step(self, grads: Sequence[Tensor], lr: float) -> None:
        grads = list(grads)
        torch._foreach_mul_(self.state, self.alpha)
        torch._foreach_addcmul_(self.state, grads, grads, value=1.0 - self.alpha)
        # Read the shared g once into our own buffer: another worker may write g in between.
        torch._foreach_copy_(self.scale, self.state)
        torch._foreach_add_(self.scale, self.eps)
        torch._foreach_rsqrt_(self.scale)
        torch._foreach_addcmul_(self.params, grads, self.scale, value=-lr)
