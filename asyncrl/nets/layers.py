"""Layers the output heads share."""

from __future__ import annotations

from torch import nn


def policy_layer(features: int, outputs: int) -> nn.Linear:
    """A linear policy output with near-zero initial outputs.

    Softmax logits near zero make the initial policy nearly uniform, and
    Gaussian means near zero centre it. The paper does not state its
    initialisation; this is orthogonal with gain 0.01.
    """
    layer = nn.Linear(features, outputs)
    nn.init.orthogonal_(layer.weight, gain=0.01)
    nn.init.zeros_(layer.bias)
    return layer
