"""Shared optimizers and the learning-rate schedule, built from the config."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor

from asyncrl.optim.base import SharedOptimizer, zeros_like_all
from asyncrl.optim.rmsprop import RMSProp
from asyncrl.optim.schedule import LinearDecay
from asyncrl.optim.sgd import MomentumSGD


def shared_statistics(optim_cfg: Any, params: Sequence[Tensor]) -> list[Tensor] | None:
    """Statistics in shared memory when the config shares them, else None.

    Called once by the main process before workers start.
    """
    return zeros_like_all(params, shared=True) if optim_cfg.shared_stats else None


def build_optimizer(optim_cfg: Any, params: Sequence[Tensor], shared_state: list[Tensor] | None) -> SharedOptimizer:
    """One worker's optimizer over the shared parameters.

    With ``shared_state`` every worker steps the same statistics; without it
    the optimizer creates this worker's own.
    """
    shared = shared_state is not None
    if optim_cfg.name in ("rmsprop", "rmsprop_shared"):
        return RMSProp(params, shared_state, shared, alpha=optim_cfg.alpha, eps=optim_cfg.eps)
    if optim_cfg.name == "sgd_momentum":
        return MomentumSGD(params, shared_state, shared, alpha=optim_cfg.alpha)
    raise ValueError(f"optim.name={optim_cfg.name!r}: unknown optimizer")


__all__ = ["LinearDecay", "MomentumSGD", "RMSProp", "SharedOptimizer", "build_optimizer", "shared_statistics"]
