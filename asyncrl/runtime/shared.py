"""What all actor-learners share: parameters, target network, counters, stop flag.

Everything here is created by the main process before any worker starts.
Parameters and optimizer statistics live in shared memory; the global step
is a shared 64-bit counter behind its own lock (only the counter is locked,
never the parameter update).
"""

from __future__ import annotations

import copy
import multiprocessing as std_mp
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
import torch.multiprocessing as mp
from torch import nn

from asyncrl.optim import shared_statistics

if TYPE_CHECKING:
    from asyncrl.build import RunParts

# Spawn is the safe start method once torch/OpenMP is initialised (fork can hang).
CTX = mp.get_context("spawn")


def copy_parameters(dst: list[torch.Tensor], src: list[torch.Tensor]) -> None:
    """dst <- src, tensor by tensor, in place (no state_dict copies)."""
    with torch.no_grad():
        torch._foreach_copy_(dst, src)


@dataclass
class SharedState:
    """Handles passed to every worker (picklable at spawn time)."""

    model: nn.Module
    target: nn.Module | None
    optim_state: list[torch.Tensor] | None
    target_interval: int | None
    step_counter: std_mp.sharedctypes.Synchronized = field(default_factory=lambda: CTX.Value("q", 0))
    target_syncs: std_mp.sharedctypes.Synchronized = field(default_factory=lambda: CTX.Value("q", 0))
    stop: std_mp.synchronize.Event = field(default_factory=CTX.Event)
    go: std_mp.synchronize.Event = field(default_factory=CTX.Event)
    """Set by the runner once every worker has built its envs, network and learner: nobody steps before.

    Without it the first worker to finish its imports could spend a small
    budget alone, and how much each worker contributes would depend on how
    fast each process happened to start.
    """

    @property
    def global_step(self) -> int:
        """The number of agent steps taken by all workers so far.

        Read without the lock: an aligned 64-bit load is atomic, and a main
        process killed while holding the lock would leave every worker
        blocked in ``advance`` for good (the main process reads this for
        each record it writes).
        """
        return int(self.step_counter.get_obj().value)

    @property
    def target_sync_count(self) -> int:
        """How many times the target network was synced."""
        return int(self.target_syncs.value)

    def set_target_syncs(self, count: int) -> None:
        """Set the count of target syncs (the cluster-wide count a Ray driver mirrors)."""
        self.target_syncs.value = count

    def set_global_step(self, value: int) -> None:
        """Set the global step: a resumed run's, or the cluster-wide one that a Ray group or driver mirrors."""
        with self.step_counter.get_lock():
            self.step_counter.value = value

    def rebase_global_step(self, seen: int, value: int) -> None:
        """The global step <- ``value`` plus the steps taken here since it read ``seen`` (a Ray group's exchange)."""
        with self.step_counter.get_lock():
            self.step_counter.value = value + (self.step_counter.value - seen)

    def advance(self, steps: int) -> tuple[int, int]:
        """Add ``steps`` to the global step atomically; return (before, after).

        Also syncs the target network when this increment crosses a multiple
        of ``target_interval``: each boundary is crossed by exactly one
        increment, so exactly one worker syncs per boundary.
        """
        with self.step_counter.get_lock():
            before = self.step_counter.value
            after = before + steps
            self.step_counter.value = after
        if self.target is not None and self.target_interval:
            crossed = after // self.target_interval - before // self.target_interval
            if crossed > 0:
                copy_parameters(list(self.target.parameters()), list(self.model.parameters()))
                with self.target_syncs.get_lock():
                    self.target_syncs.value += crossed
        return before, after


def share_model(model: nn.Module) -> nn.Module:
    """Move a model's parameters to shared memory and freeze it for autograd.

    Workers never backpropagate through the shared model; they compute
    gradients on a local copy and hand them to the shared optimizer.
    """
    model.share_memory()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def create_shared_state(parts: RunParts) -> SharedState:
    """Everything the workers share, created by the main process before any starts.

    The network is initialised from ``cfg.seed`` without touching the
    caller's torch random stream; the target network starts as its copy.
    """
    with torch.random.fork_rng():
        torch.manual_seed(parts.config.seed)
        model = share_model(parts.network())
    target = share_model(copy.deepcopy(model)) if parts.algorithm.uses_target_net else None
    optim_state = shared_statistics(parts.config.optim, list(model.parameters()))
    return SharedState(model, target, optim_state, parts.target_interval)
