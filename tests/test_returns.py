"""n-step returns and one-step targets against hand computation."""

import pytest
import torch

from asyncrl.learners.returns import nstep_returns, one_step_targets

R = torch.tensor([1.0, 2.0, 3.0])
NO_TERMINAL = torch.tensor([False, False, False])


def test_bootstrapped_returns_by_hand():
    # gamma 0.5, V(s_3) = 10: R2 = 3 + 5 = 8, R1 = 2 + 4 = 6, R0 = 1 + 3 = 4
    out = nstep_returns(R, NO_TERMINAL, torch.tensor(10.0), 0.5)
    assert out.tolist() == pytest.approx([4.0, 6.0, 8.0])


def test_terminal_stops_bootstrapping():
    # the last transition is a true terminal: R2 = 3, R1 = 3.5, R0 = 2.75
    out = nstep_returns(R, torch.tensor([False, False, True]), torch.tensor(10.0), 0.5)
    assert out.tolist() == pytest.approx([2.75, 3.5, 3.0])


def test_truncation_bootstraps_like_a_cut_segment():
    # A time-limit truncation is not terminal: the returns equal the bootstrapped ones.
    truncated = nstep_returns(R, NO_TERMINAL, 10.0, 0.5)
    assert truncated.tolist() == pytest.approx([4.0, 6.0, 8.0])


def test_first_state_gets_t_step_return_last_gets_one_step():
    gamma, v = 0.9, 5.0
    out = nstep_returns(R, NO_TERMINAL, v, gamma)
    assert out[2].item() == pytest.approx(3 + gamma * v)
    assert out[0].item() == pytest.approx(1 + gamma * 2 + gamma**2 * 3 + gamma**3 * v)


def test_one_step_targets_by_hand():
    next_values = torch.tensor([10.0, 20.0, 30.0])
    out = one_step_targets(R, torch.tensor([False, False, True]), next_values, 0.5)
    assert out.tolist() == pytest.approx([1 + 5.0, 2 + 10.0, 3.0])
