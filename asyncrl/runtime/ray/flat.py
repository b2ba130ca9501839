"""Parameters as one flat float32 numpy buffer: what travels between groups and the parameter server.

Ray passes numpy arrays through its object store without copying them
(torch tensors it would copy), so a network travels as one buffer.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor


def flatten(params: Sequence[Tensor]) -> np.ndarray:
    """A float32 copy of ``params`` laid end to end."""
    with torch.no_grad():
        return torch.cat([p.detach().reshape(-1) for p in params]).to(torch.float32).numpy()


def _views(params: Sequence[Tensor], flat: np.ndarray) -> list[tuple[Tensor, Tensor]]:
    out, offset = [], 0
    with warnings.catch_warnings():  # buffers from Ray's object store are read-only; they are only read here
        warnings.simplefilter("ignore", UserWarning)
        buffer = torch.from_numpy(np.ascontiguousarray(flat, dtype=np.float32))
    for p in params:
        n = p.numel()
        out.append((p, buffer[offset:offset + n].view_as(p)))
        offset += n
    if offset != buffer.numel():
        raise ValueError(f"a flat buffer of {buffer.numel()} values for parameters of {offset}")
    return out


def load(params: Sequence[Tensor], flat: np.ndarray) -> None:
    """``params`` <- ``flat``, in place (shared memory stays shared)."""
    with torch.no_grad():
        for p, value in _views(params, flat):
            p.copy_(value)


def add(params: Sequence[Tensor], flat: np.ndarray) -> None:
    """``params`` += ``flat``, in place, without a lock (workers may be updating them: Hogwild)."""
    with torch.no_grad():
        for p, value in _views(params, flat):
            p.add_(value)
