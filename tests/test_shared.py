"""The global step counter and the target-network sync under concurrent workers."""

import torch
from torch import nn

from asyncrl.runtime.shared import CTX, SharedState, share_model


def _hammer(shared: SharedState, increments: list[int]) -> None:
    for n in increments:
        shared.advance(n)


def _make_shared(interval: int) -> SharedState:
    model = share_model(nn.Linear(3, 2))
    target = share_model(nn.Linear(3, 2))
    with torch.no_grad():
        model.weight.fill_(7.0)
        model.bias.fill_(-3.0)
        target.weight.zero_()
        target.bias.zero_()
    return SharedState(model, target, None, interval)


def test_counter_exact_and_one_target_sync_per_boundary_across_processes():
    shared = _make_shared(interval=100)
    # Four processes, uneven increments (1..5, like segments cut by episode ends).
    plans = [[1 + (i + k) % 5 for i in range(3000)] for k in range(4)]
    procs = [CTX.Process(target=_hammer, args=(shared, plan)) for plan in plans]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    total = sum(sum(plan) for plan in plans)
    assert shared.global_step == total
    assert shared.target_syncs.value == total // 100
    # The target was copied from the shared online network (and nothing else).
    assert torch.equal(shared.target.weight, shared.model.weight)
    assert torch.equal(shared.target.bias, shared.model.bias)


def test_no_sync_before_the_first_boundary():
    shared = _make_shared(interval=1000)
    shared.advance(999)
    assert shared.target_syncs.value == 0
    assert shared.target.weight.abs().sum() == 0
    before, after = shared.advance(2)
    assert (before, after) == (999, 1001)
    assert shared.target_syncs.value == 1
    assert torch.equal(shared.target.weight, shared.model.weight)
