"""Learner targets and losses on hand-built segments, with table networks.

Observations are state ids (shape [1]); the networks look them up in
tables, so every target and loss can be written down by hand.
"""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from asyncrl.learners import A3C, NStepQ, OneStepQ, OneStepSarsa, Segment

GAMMA = 0.5
Q_TABLE = torch.tensor([[1.0, 2.0], [3.0, 0.0], [0.5, 4.0], [6.0, 7.0]])
TARGET_TABLE = torch.tensor([[10.0, 20.0], [30.0, 5.0], [1.0, 40.0], [60.0, 70.0]])


class TableQ(nn.Module):
    def __init__(self, table: torch.Tensor) -> None:
        super().__init__()
        self.table = nn.Parameter(table.clone())

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.table[obs[:, 0].long()]


class TableAC(nn.Module):
    def __init__(self, logits: torch.Tensor, values: torch.Tensor) -> None:
        super().__init__()
        self.logits = nn.Parameter(logits.clone())
        self.values = nn.Parameter(values.clone())

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        idx = obs[:, 0].long()
        return self.logits[idx], self.values[idx]


def segment(terminal: bool, next_action: int | None = None, truncated: bool = False) -> Segment:
    """States 0 -> 1 -> 2 -> 3 with actions 0, 1, 0 and rewards 1, 0, 2."""
    return Segment.single(obs=torch.tensor([[0.0], [1.0], [2.0], [3.0]]), actions=torch.tensor([0, 1, 0]),
                          rewards=torch.tensor([1.0, 0.0, 2.0]), terminated=torch.tensor([False, False, terminal]),
                          truncated=truncated, next_action=next_action)


def q_cfg(loss: str = "squared") -> SimpleNamespace:
    return SimpleNamespace(gamma=GAMMA, loss=loss, eps_finals=[0.1], eps_probs=[1.0], eps_anneal=100,
                           update_interval=5, t_max=5)


def q_learner(cls, loss: str = "squared"):
    return cls(TableQ(Q_TABLE), q_cfg(loss), 2, np.random.default_rng(0))


# Q(s_i, a_i) for the segment: Q[0,0]=1, Q[1,1]=0, Q[2,0]=0.5
Q_TAKEN = torch.tensor([1.0, 0.0, 0.5])


@pytest.mark.parametrize("terminal", [False, True])
def test_one_step_q_targets(terminal):
    learner = q_learner(OneStepQ)
    y = learner.targets(segment(terminal), TableQ(TARGET_TABLE))[:, 0]
    # max_a target(s_1)=30, target(s_2)=40, target(s_3)=70
    last = 2.0 if terminal else 2.0 + GAMMA * 70
    assert y.tolist() == pytest.approx([1 + GAMMA * 30, 0 + GAMMA * 40, last])


def test_truncated_segment_bootstraps():
    learner = q_learner(NStepQ)
    cut = learner.targets(segment(False, truncated=True), TableQ(TARGET_TABLE))[:, 0]
    plain = learner.targets(segment(False), TableQ(TARGET_TABLE))[:, 0]
    assert cut.tolist() == pytest.approx(plain.tolist())
    assert cut[2].item() == pytest.approx(2 + GAMMA * 70)


def test_sarsa_uses_the_next_action_actually_taken():
    learner = q_learner(OneStepSarsa)
    y = learner.targets(segment(False, next_action=0), TableQ(TARGET_TABLE))[:, 0]
    # next actions: a_1=1 in s_1 (5), a_2=0 in s_2 (1), chosen a'=0 in s_3 (60)
    assert y.tolist() == pytest.approx([1 + GAMMA * 5, 0 + GAMMA * 1, 2 + GAMMA * 60])
    y_other = learner.targets(segment(False, next_action=1), TableQ(TARGET_TABLE))[:, 0]
    assert y_other[2].item() == pytest.approx(2 + GAMMA * 70)


def test_sarsa_terminal_ignores_next_action():
    learner = q_learner(OneStepSarsa)
    y = learner.targets(segment(True, next_action=None), TableQ(TARGET_TABLE))[:, 0]
    assert y[2].item() == pytest.approx(2.0)


@pytest.mark.parametrize("terminal", [False, True])
def test_nstep_q_targets(terminal):
    learner = q_learner(NStepQ)
    y = learner.targets(segment(terminal), TableQ(TARGET_TABLE))[:, 0]
    r2 = 2.0 if terminal else 2.0 + GAMMA * 70  # bootstrap max_a target(s_3) = 70
    r1 = 0.0 + GAMMA * r2
    r0 = 1.0 + GAMMA * r1
    assert y.tolist() == pytest.approx([r0, r1, r2])


def test_squared_loss_and_gradient_by_hand():
    learner = q_learner(NStepQ)
    target = TableQ(TARGET_TABLE)
    loss, metrics = learner.loss(segment(False), target)
    y = learner.targets(segment(False), target)[:, 0]
    assert loss.item() == pytest.approx(((y - Q_TAKEN) ** 2).sum().item())
    loss.backward()
    grad = learner.model.table.grad
    assert grad[0, 0].item() == pytest.approx(-2 * (y[0] - 1.0).item())
    assert grad[0, 1].item() == 0.0  # untaken action
    assert target.table.grad is None  # no gradient flows into the target network
    assert metrics["td_loss"] == pytest.approx(loss.item() / 3)


def test_huber_loss_is_linear_for_large_errors():
    learner = q_learner(OneStepQ, loss="huber")
    target = TableQ(TARGET_TABLE)
    loss, _ = learner.loss(segment(False), target)
    y = learner.targets(segment(False), target)[:, 0]
    err = (y - Q_TAKEN).abs()
    expected = torch.where(err < 1, 0.5 * err**2, err - 0.5).sum()
    assert loss.item() == pytest.approx(expected.item())


def test_a3c_loss_pieces_by_hand():
    logits = torch.tensor([[0.0, 1.0], [2.0, 0.0], [0.5, 0.5], [0.0, 0.0]])
    values = torch.tensor([1.0, 2.0, 3.0, 4.0])
    cfg = SimpleNamespace(gamma=GAMMA, t_max=5, entropy_beta=0.01, value_loss_coef=0.5)
    learner = A3C(TableAC(logits, values), cfg, 2, np.random.default_rng(0))
    loss, metrics = learner.loss(segment(False), None)

    returns = torch.tensor([0.0, 0.0, 2.0 + GAMMA * 4.0])
    returns[1] = 0.0 + GAMMA * returns[2]
    returns[0] = 1.0 + GAMMA * returns[1]
    adv = returns - values[:3]
    logp = F.log_softmax(logits[:3], dim=1)
    logp_taken = logp[[0, 1, 2], [0, 1, 0]]
    policy = -(logp_taken * adv).sum()
    value = (adv**2).sum()
    entropy = -(logp.exp() * logp).sum()
    assert loss.item() == pytest.approx((policy + 0.5 * value - 0.01 * entropy).item(), rel=1e-6)
    assert metrics["policy_loss"] == pytest.approx(policy.item() / 3, rel=1e-6)
    assert metrics["value_loss"] == pytest.approx(value.item() / 3, rel=1e-6)
    assert metrics["entropy"] == pytest.approx(entropy.item() / 3, rel=1e-6)

    loss.backward()
    # The value gradient is 2 * 0.5 * -(R - V); the policy term holds the advantage fixed.
    grad_v = learner.model.values.grad
    assert grad_v[:3].tolist() == pytest.approx((-adv).tolist(), rel=1e-6)
    assert grad_v[3].item() == 0.0  # the bootstrap value is not trained through


def test_a3c_terminal_segment_ignores_last_value():
    logits = torch.zeros(4, 2)
    cfg = SimpleNamespace(gamma=GAMMA, t_max=5, entropy_beta=0.0, value_loss_coef=0.5)
    a = A3C(TableAC(logits, torch.tensor([0.0, 0.0, 0.0, 100.0])), cfg, 2, np.random.default_rng(0))
    b = A3C(TableAC(logits, torch.tensor([0.0, 0.0, 0.0, -100.0])), cfg, 2, np.random.default_rng(0))
    assert a.loss(segment(True), None)[0].item() == pytest.approx(b.loss(segment(True), None)[0].item())


def test_a3c_samples_from_its_policy():
    logits = torch.tensor([[0.0, np.log(3.0)]])  # p = [0.25, 0.75]
    cfg = SimpleNamespace(gamma=GAMMA, t_max=5, entropy_beta=0.01, value_loss_coef=0.5)
    learner = A3C(TableAC(logits, torch.zeros(1)), cfg, 2, np.random.default_rng(0))
    with torch.no_grad():
        actions = [learner.act(torch.tensor([[0.0]]), 0)[0] for _ in range(4000)]
    assert np.mean(actions) == pytest.approx(0.75, abs=0.03)


def test_q_learner_acts_greedily_once_epsilon_is_small():
    learner = q_learner(OneStepQ)  # final epsilon 0.1 after 100 steps
    with torch.no_grad():
        greedy_share = np.mean([learner.act(torch.tensor([[2.0]]), 10_000)[0] == 1 for _ in range(4000)])
        early = np.mean([learner.act(torch.tensor([[2.0]]), 0)[0] == 1 for _ in range(4000)])
    assert greedy_share == pytest.approx(0.95, abs=0.02)  # 0.9 greedy + 0.1 * 1/2 random
    assert early == pytest.approx(0.5, abs=0.03)  # epsilon 1 at the start: uniform
    assert learner.worker_info() == {"final_epsilon": 0.1}


def test_q_learner_explores_each_env_of_a_batch_on_its_own():
    learner = q_learner(OneStepQ)  # final epsilon 0.1: 0.95 greedy per env, 0.05 the other action
    obs = torch.tensor([[2.0], [1.0], [2.0]])  # greedy actions 1, 0, 1
    with torch.no_grad():
        actions = np.stack([learner.act(obs, 10_000) for _ in range(4000)])
    assert actions.shape == (4000, 3)
    assert actions.mean(axis=0) == pytest.approx([0.95, 0.05, 0.95], abs=0.02)
    both = (actions[:, 0] != 1) & (actions[:, 2] != 1)  # independent draws: 0.05^2 of the steps
    assert both.mean() == pytest.approx(0.0025, abs=0.002)
