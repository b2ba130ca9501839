"""Shared optimizers against the paper's formulas, and sharing across processes."""

import pytest
import torch

import asyncrl
from asyncrl.build import build_run
from asyncrl.optim import LinearDecay, MomentumSGD, RMSProp, build_optimizer, shared_statistics
from asyncrl.runtime.shared import CTX

P0 = torch.tensor([1.0, -2.0, 0.5, 0.0])
G1 = torch.tensor([0.2, 0.0, -1.0, 3.0])
G2 = torch.tensor([-0.4, 1.0, 0.5, 0.0])


def test_rmsprop_matches_the_paper_with_eps_inside_the_sqrt():
    alpha, eps, lr = 0.99, 0.1, 0.01
    p = P0.clone()
    opt = RMSProp([p], None, shared=False, alpha=alpha, eps=eps)
    opt.step([G1], lr)
    opt.step([G2], lr)
    g = (1 - alpha) * G1**2
    expected = P0 - lr * G1 / torch.sqrt(g + eps)
    g = alpha * g + (1 - alpha) * G2**2
    expected = expected - lr * G2 / torch.sqrt(g + eps)
    assert torch.allclose(p, expected, atol=1e-7)
    assert torch.allclose(opt.state[0], g, atol=1e-9)
    # torch's RMSprop puts eps outside the root; with eps=0.1 that is a different update.
    outside = P0 - lr * G1 / (torch.sqrt((1 - alpha) * G1**2) + eps)
    assert not torch.allclose(outside, P0 - lr * G1 / torch.sqrt((1 - alpha) * G1**2 + eps))


def test_momentum_sgd_matches_the_paper():
    alpha, lr = 0.9, 0.1
    p = P0.clone()
    opt = MomentumSGD([p], None, shared=False, alpha=alpha)
    opt.step([G1], lr)
    opt.step([G2], lr)
    m = (1 - alpha) * G1
    expected = P0 - lr * m
    m = alpha * m + (1 - alpha) * G2
    expected = expected - lr * m
    assert torch.allclose(p, expected, atol=1e-7)


def test_lr_anneals_linearly_to_zero_on_the_global_step():
    schedule = LinearDecay(1e-3, 1000)
    assert schedule(0) == pytest.approx(1e-3)
    assert schedule(250) == pytest.approx(7.5e-4)
    assert schedule(1000) == 0.0
    assert schedule(2000) == 0.0
    assert LinearDecay(1e-3, 1000, anneal=False)(900) == pytest.approx(1e-3)


def test_lr_warms_up_from_zero_then_follows_the_paper_schedule():
    schedule = LinearDecay(1e-3, 1000, warmup_steps=200)
    assert schedule(0) == 0.0
    assert schedule(50) == pytest.approx(1e-3 * 0.25 * 0.95)  # a quarter of the way up, 5% annealed
    assert schedule(200) == pytest.approx(1e-3 * 0.8)
    assert schedule(600) == pytest.approx(LinearDecay(1e-3, 1000)(600))  # after the warm-up: as without one
    assert LinearDecay(1e-3, 1000, anneal=False, warmup_steps=200)(100) == pytest.approx(0.5e-3)


def test_the_configured_warmup_reaches_the_workers_schedule():
    cfg = asyncrl.make_config("env=cartpole", "optim.warmup_steps=500", "optim.lr=1e-3", "optim.lr_scaling=none",
                              total_steps=10_000)
    schedule = build_run(cfg).lr_schedule()
    assert schedule(250) == pytest.approx(1e-3 * 0.5 * 0.975)
    assert build_run(asyncrl.make_config("env=cartpole")).lr_schedule().warmup_steps == 0  # the paper: none


class Cfg:
    def __init__(self, shared: bool) -> None:
        self.name, self.alpha, self.eps, self.shared_stats = "rmsprop", 0.99, 0.1, shared


def _step_in_child(cfg, params, state, grad, steps, out):
    """A worker: build its optimizer on the shared params, step, report its state."""
    opt = build_optimizer(cfg, params, state)
    for _ in range(steps):
        opt.step([grad], 0.01)
    out.put(opt.state[0].tolist())  # plain data: the child may exit before the parent reads


def _run_child(cfg, params, state, grad, steps):
    out = CTX.Queue()
    proc = CTX.Process(target=_step_in_child, args=(cfg, params, state, grad, steps, out))
    proc.start()
    result = torch.tensor(out.get(timeout=60))
    proc.join(timeout=60)
    assert proc.exitcode == 0
    return result


@pytest.mark.parametrize("shared", [True, False])
def test_statistics_shared_between_processes_only_when_configured(shared):
    cfg = Cfg(shared)
    param = torch.zeros(4)
    param.share_memory_()
    state = shared_statistics(cfg, [param])
    assert (state is not None) == shared
    grad = torch.tensor([1.0, 2.0, 3.0, 4.0])
    first = _run_child(cfg, [param], state, grad, steps=3)
    second = _run_child(cfg, [param], state, grad, steps=1)
    fresh = 0.01 * grad**2  # (1 - alpha) g^2: one step from zero statistics
    if shared:
        # The second process continued from the first one's statistics, and the
        # main process sees them in its own tensor.
        assert torch.allclose(second, 0.99 * first + fresh)
        assert torch.allclose(state[0], second)
    else:
        assert torch.allclose(second, fresh)
    assert param.abs().sum() > 0  # both processes stepped the shared parameters
