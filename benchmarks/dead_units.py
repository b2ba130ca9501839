"""How much of a trained network is alive: the share of each ReLU layer's units that fire, and how much the
network's outputs vary from one observation to the next.

A network whose first layers have stopped firing (dead ReLUs) feeds its heads
a constant, so its policy and value are the same in every state and no
gradient reaches the dead layers again: training can go on for hours
without the policy leaving where it was. This reads a run's checkpoint,
plays its agent's own policy in the run's environments and reports, per
ReLU layer in the order they run, the share of units (channels, for a
convolution) that fire on at least one of the observations, and the share
of (observation, unit) pairs that fire; then the spread of the value and of
the policy's probabilities across the observations.

    python benchmarks/dead_units.py bench-out/pong-probes/lr_none [--observations 1000]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

import asyncrl


@dataclass(frozen=True)
class LayerActivity:
    """What one ReLU layer did over a batch of observations."""

    name: str
    units: int
    alive: float  # share of units that fire on at least one observation
    active: float  # share of (observation, unit) pairs that fire


def unit_outputs(output: Tensor) -> Tensor:
    """[N, units]: a convolution's channel fires on an observation if it fires anywhere in the image."""
    return output.flatten(2).amax(dim=2) if output.dim() > 2 else output


def relu_activity(model: nn.Module, observations: Tensor) -> tuple[list[LayerActivity], Any]:
    """Each ReLU layer's activity on ``observations`` in one forward pass, and the model's outputs."""
    seen: dict[str, Tensor] = {}
    relus = [(name, module) for name, module in model.named_modules() if isinstance(module, nn.ReLU)]
    hooks = [module.register_forward_hook(lambda _m, _i, out, name=name: seen.__setitem__(name, unit_outputs(out)))
             for name, module in relus]
    try:
        with torch.no_grad():
            outputs = model(observations)
    finally:
        for hook in hooks:
            hook.remove()
    layers = [LayerActivity(name, seen[name].shape[1], (seen[name] > 0).any(0).float().mean().item(),
                            (seen[name] > 0).float().mean().item()) for name, _ in relus if name in seen]
    return layers, outputs


def play_observations(agent: asyncrl.Agent, count: int, envs: int = 8, seed: int = 0) -> Tensor:
    """``count`` observations from the agent's own (sampling) play in ``envs`` of the run's environments."""
    batch_env = agent.parts.envs(envs)
    obs = batch_env.reset(seed=seed)
    seen = []
    for _ in range(-(-count // envs)):
        seen.append(torch.as_tensor(np.array(obs)))
        actions, _ = agent.act(obs)
        obs = batch_env.step(actions).obs
    batch_env.close()
    return torch.cat(seen)[:count]


def report(run: Path, count: int) -> str:
    """The report for the checkpoint in ``run``."""
    agent = asyncrl.Agent.load(run)
    if getattr(agent.model, "recurrent", False):
        raise SystemExit(f"error: {run}: recurrent networks are not supported")
    observations = play_observations(agent, count)
    layers, outputs = relu_activity(agent.model, observations)
    lines = [f"{run}: global step {agent.global_step:,}, {count} observations of its own play",
             "| ReLU layer | units | fire on some observation | fire, per observation |", "|---|---|---|---|"]
    lines += [f"| {a.name} | {a.units} | {a.alive:.1%} | {a.active:.1%} |" for a in layers]
    if not isinstance(outputs, tuple):  # a Q-network
        lines.append(f"Q-values: mean {outputs.mean():.3f}, "
                     f"standard deviation across observations {outputs.std(0).mean():.4f}")
        return "\n".join(lines)
    policy, value = outputs
    lines.append(f"value: mean {value.mean():.3f}, standard deviation across observations {value.std():.4f}")
    if isinstance(policy, Tensor):  # softmax logits (a Gaussian policy is a pair)
        probs = torch.softmax(policy, dim=-1)
        means = ", ".join(f"{p:.3f}" for p in probs.mean(0).tolist())
        lines.append(f"policy: mean probabilities [{means}], "
                     f"standard deviation across observations {probs.std(0).mean():.4f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run directory holding checkpoint.pt")
    parser.add_argument("--observations", type=int, default=1000)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(report(args.run, args.observations))


if __name__ == "__main__":
    main()
