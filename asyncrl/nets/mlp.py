"""Fully connected body for vector observations."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}


def mlp_body(in_features: int, hidden: Sequence[int], activation: str) -> nn.Sequential:
    """Flatten, then Linear+activation per entry of ``hidden``."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_features
    for size in hidden:
        layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
        width = size
    return nn.Sequential(*layers)
