"""What the shared optimizers have in common."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def zeros_like_all(params: Sequence[Tensor], shared: bool) -> list[Tensor]:
    """One zero tensor per parameter, in shared memory when ``shared``.

    Shared statistics are created here, eagerly, by the main process before
    any worker starts, so every worker steps the very same tensors (a lazily
    created state would silently become one copy per process).
    """
    state = [torch.zeros_like(p) for p in params]  # same layout as the parameter (channels-last convs)
    if shared:
        for tensor in state:
            tensor.share_memory_()
    return state


class SharedOptimizer:
    """Applies a worker's gradients to the shared parameters, without a lock.

    The gradients are the worker's own tensors, passed to :meth:`step`: the
    shared parameters never hold a ``.grad``, so nothing is aliased across
    workers and the same code is right for threads, where a shared ``.grad``
    would be one buffer raced by every thread.
    """

    def __init__(self, params: Sequence[Tensor], state: list[Tensor] | None, shared: bool) -> None:
        self.params = list(params)
        self.shared = shared
        self.state = state if state is not None else zeros_like_all(self.params, shared=False)
        if len(self.state) != len(self.params):
            raise ValueError("optimizer state must have one tensor per parameter")

    @torch.no_grad()
    def step(self, grads: Sequence[Tensor], lr: float) -> None:
        """Update the shared parameters in place from one worker's gradients."""
        raise NotImplementedError
