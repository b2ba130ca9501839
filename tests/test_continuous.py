"""Continuous actions: Gaussian policy math, networks, A3C's loss and the value learners' refusal."""

import json
import math
from pathlib import Path
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn
from torch.distributions import Categorical, Normal

from asyncrl.config import ConfigError
from asyncrl.learners import A3C, Segment
from asyncrl.learners.policies import CategoricalPolicy, GaussianPolicy, policy_for
from asyncrl.nets import actor_critic
from asyncrl.nets.gaussian import GaussianActorCritic, RecurrentGaussianActorCritic
from asyncrl.registry import algorithms
from tests.conftest import run_cli

LOW, HIGH = np.array([-2.0, -1.0], np.float32), np.array([2.0, 1.0], np.float32)
MEAN = torch.tensor([[0.5, -0.2], [1.5, 0.9], [-1.0, 0.0]])
VAR = torch.tensor([[0.25, 1.0], [2.0, 0.04], [0.5, 3.0]])


def test_gaussian_log_prob_and_entropy_inside_the_bounds_match_torch():
    policy = GaussianPolicy(LOW, HIGH)
    actions = torch.tensor([[0.0, 0.3], [1.9, -0.99], [-1.5, 0.7]])  # all strictly inside
    normal = Normal(MEAN, VAR.sqrt())
    assert policy.log_prob((MEAN, VAR), actions).tolist() == pytest.approx(
        normal.log_prob(actions).sum(dim=1).tolist(), rel=1e-6)
    assert policy.entropy((MEAN, VAR)).tolist() == pytest.approx(normal.entropy().sum(dim=1).tolist(), rel=1e-6)
    # One value by hand: N(0; 0.5, 0.25) and N(0.3; -0.2, 1).
    by_hand = (-0.5 * 0.5**2 / 0.25 - 0.5 * math.log(2 * math.pi * 0.25)
               - 0.5 * 0.5**2 / 1.0 - 0.5 * math.log(2 * math.pi))
    assert policy.log_prob((MEAN[:1], VAR[:1]), actions[:1]).item() == pytest.approx(by_hand, rel=1e-6)


def test_gaussian_log_prob_on_a_bound_is_the_clipped_mass():
    policy = GaussianPolicy(LOW, HIGH)
    # Row 0: dim 0 on the upper bound; row 1: dim 0 inside, dim 1 on the lower bound; row 2:
    # dim 0 on the lower bound, dim 1 on the upper one.
    actions = torch.tensor([[2.0, 0.3], [1.0, -1.0], [-2.0, 1.0]])
    density = Normal(MEAN, VAR.sqrt()).log_prob(actions)

    def log_tail(z: float) -> float:  # log P(Z > z) for a standard normal, with erfc (no cancellation)
        return math.log(0.5 * math.erfc(z / math.sqrt(2)))

    # P(x >= high) = P(Z > (high - mean) / std); P(x <= low) = P(Z > (mean - low) / std)
    expected = [log_tail((2.0 - 0.5) / 0.5) + density[0, 1].item(),
                density[1, 0].item() + log_tail((0.9 + 1.0) / 0.2),
                log_tail((-1.0 + 2.0) / math.sqrt(0.5)) + log_tail((1.0 - 0.0) / math.sqrt(3.0))]
    got = policy.log_prob((MEAN, VAR), actions)
    assert got.tolist() == pytest.approx(expected, rel=1e-5)
    assert math.isfinite(got[1].item())  # Phi(-9.5) ~ 1e-21 is 0 in torch's cdf; log_ndtr keeps it


def test_clipped_log_prob_is_the_distribution_sample_draws_from():
    # The score E[d log p(a) / d mean] is zero exactly when log p is the density of the
    # sampled actions; with a third of them clipped, the plain Gaussian density is biased.
    policy = GaussianPolicy(np.array([-1.0], np.float32), np.array([1.0], np.float32))
    n = 40_000
    mean, var = torch.full((n, 1), 0.6, requires_grad=True), torch.full((n, 1), 0.64)
    actions = torch.from_numpy(policy.sample((mean.detach(), var), np.random.default_rng(0)))
    assert 0.25 < (actions == 1.0).float().mean().item() < 0.4
    policy.log_prob((mean, var), actions).mean().backward()
    assert abs(mean.grad.sum().item()) < 0.02
    mean_plain = torch.tensor(0.6, requires_grad=True)  # the unclipped density at the clipped actions
    Normal(mean_plain, 0.8).log_prob(actions).mean().backward()
    assert abs(mean_plain.grad.item()) > 0.2


def test_gaussian_samples_respect_the_bounds():
    policy = GaussianPolicy(LOW, HIGH)
    rng = np.random.default_rng(0)
    mean = torch.tensor([[0.0, 0.0], [50.0, -50.0]]).repeat(500, 1)
    actions = policy.sample((mean, torch.full_like(mean, 4.0)), rng)
    assert actions.dtype == np.float32 and actions.shape == (1000, 2)
    assert (actions >= LOW).all() and (actions <= HIGH).all()
    inside = actions[::2]
    assert ((inside > LOW) & (inside < HIGH)).mean() > 0.3  # the centred rows mostly stay inside
    assert (actions[1::2] == [2.0, -1.0]).all()  # far outside: always on the bound
    assert policy.greedy((torch.tensor([[3.0, 0.5]]), torch.ones(1, 2))).tolist() == [[2.0, 0.5]]


def test_gaussian_sample_statistics_and_unbounded_spaces():
    policy = policy_for(gym.spaces.Box(-np.inf, np.inf, (1,), np.float32))
    actions = policy.sample((torch.full((20_000, 1), 3.0), torch.full((20_000, 1), 0.25)), np.random.default_rng(1))
    assert actions.mean() == pytest.approx(3.0, abs=0.02) and actions.std() == pytest.approx(0.5, abs=0.02)
    mean = torch.tensor([[3.0]], requires_grad=True)
    log_prob = policy.log_prob((mean, torch.tensor([[0.25]])), torch.tensor([[2.5]]))
    assert log_prob.item() == pytest.approx(Normal(3.0, 0.5).log_prob(torch.tensor(2.5)).item(), rel=1e-6)
    log_prob.backward()
    assert mean.grad.item() == pytest.approx(-2.0)  # (a - mean) / var, finite with infinite bounds


def test_categorical_policy_matches_torch():
    policy = CategoricalPolicy()
    logits = torch.tensor([[0.0, 1.0, -1.0], [2.0, 0.0, 0.5]])
    dist = Categorical(logits=logits)
    actions = torch.tensor([1, 2])
    assert policy.log_prob(logits, actions).tolist() == pytest.approx(dist.log_prob(actions).tolist(), rel=1e-6)
    assert policy.entropy(logits).tolist() == pytest.approx(dist.entropy().tolist(), rel=1e-6)
    assert policy.greedy(logits).tolist() == [1, 0]
    samples = policy.sample(logits.repeat(5000, 1), np.random.default_rng(0))
    assert samples.dtype == np.int64
    assert np.mean(samples[0::2] == 1) == pytest.approx(dist.probs[0, 1].item(), abs=0.02)


class TableGaussian(nn.Module):
    """State id -> (mean, variance) and value, from tables."""

    def __init__(self, mean: torch.Tensor, var: torch.Tensor, values: torch.Tensor) -> None:
        super().__init__()
        self.mean, self.var, self.values = (nn.Parameter(t.clone()) for t in (mean, var, values))

    def forward(self, obs: torch.Tensor):
        idx = obs[:, 0].long()
        return (self.mean[idx], self.var[idx]), self.values[idx]


def test_gaussian_a3c_loss_by_hand():
    gamma, beta = 0.5, 1e-4
    space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    mean, var = torch.tensor([[0.0], [0.5], [-0.5], [0.0]]), torch.tensor([[1.0], [0.25], [4.0], [1.0]])
    values = torch.tensor([1.0, 2.0, 3.0, 4.0])
    cfg = SimpleNamespace(gamma=gamma, t_max=5, entropy_beta=beta, value_loss_coef=0.5)
    learner = A3C(TableGaussian(mean, var, values), cfg, space, np.random.default_rng(0))
    actions = torch.tensor([[0.2], [1.0], [-0.4]])  # the second was clipped to the upper bound
    segment = Segment.single(torch.tensor([[0.0], [1.0], [2.0], [3.0]]), actions, torch.tensor([1.0, 0.0, 2.0]),
                             torch.zeros(3, dtype=torch.bool), truncated=False)
    loss, metrics = learner.loss(segment, None)

    r2 = 2.0 + gamma * 4.0
    r1 = 0.0 + gamma * r2
    returns = torch.tensor([1.0 + gamma * r1, r1, r2])
    adv = returns - values[:3]
    logp = torch.stack([Normal(0.0, 1.0).log_prob(torch.tensor(0.2)),
                        torch.log(1 - Normal(0.5, 0.5).cdf(torch.tensor(1.0))),
                        Normal(-0.5, 2.0).log_prob(torch.tensor(-0.4))])
    entropy = 0.5 * torch.log(2 * math.pi * math.e * var[:3, 0])
    expected = -(logp * adv).sum() + 0.5 * (adv**2).sum() - beta * entropy.sum()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert metrics["entropy"] == pytest.approx(entropy.mean().item(), rel=1e-6)
    loss.backward()
    assert learner.model.values.grad[:3].tolist() == pytest.approx((-adv).tolist(), rel=1e-6)
    # d/d mean of -(adv_0 log N(0.2; mean, 1)) = -adv_0 (0.2 - mean) / var
    assert learner.model.mean.grad[0, 0].item() == pytest.approx(-adv[0].item() * 0.2, rel=1e-6)


@pytest.mark.parametrize("name", ["one_step_q", "one_step_sarsa", "nstep_q"])
def test_value_learners_reject_box_actions_with_one_line(name: str):
    with pytest.raises(ConfigError, match=r"needs a discrete action space, the env has Box") as err:
        algorithms()[name].check_action_space(gym.spaces.Box(-1, 1, (2,), np.float32))
    assert "\n" not in str(err.value)


def test_a3c_accepts_discrete_and_vector_box_actions_only():
    a3c = algorithms()["a3c"]
    a3c.check_action_space(gym.spaces.Discrete(3))
    a3c.check_action_space(gym.spaces.Box(-1, 1, (2,), np.float32))
    with pytest.raises(ConfigError, match="1-D Box"):
        a3c.check_action_space(gym.spaces.Box(-1, 1, (2, 2), np.float32))


OBS = gym.spaces.Box(-1, 1, (3,), np.float32)
BOX = gym.spaces.Box(-2, 2, (2,), np.float32)


def model_cfg(**kw) -> SimpleNamespace:
    return SimpleNamespace(**{"hidden": [16], "activation": "tanh", "lstm": False, "lstm_size": 8,
                              "separate_value": None, **kw})


def test_actor_critic_gives_box_actions_a_gaussian_head_with_a_separate_value():
    torch.manual_seed(0)
    model = actor_critic(OBS, BOX, model_cfg())
    assert isinstance(model, GaussianActorCritic) and model.value_body is not None
    (mean, var), values = model(torch.rand(5, 3))
    assert mean.shape == var.shape == (5, 2) and values.shape == (5,) and (var > 0).all()
    # The value's loss reaches only the value network, the policy's only the policy network.
    values.sum().backward()
    assert model.body[1].weight.grad is None and model.value_body[1].weight.grad.abs().sum() > 0
    shared = actor_critic(OBS, BOX, model_cfg(separate_value=False))
    assert shared.value_body is None
    with pytest.raises(ConfigError, match="model.separate_value"):
        actor_critic(OBS, gym.spaces.Discrete(2), model_cfg(separate_value=True))


@pytest.mark.parametrize("separate", [True, False])
def test_recurrent_gaussian_replays_the_acting_pass(separate: bool):
    torch.manual_seed(0)
    model = actor_critic(OBS, BOX, model_cfg(lstm=True, separate_value=separate))
    assert isinstance(model, RecurrentGaussianActorCritic)
    cfg = SimpleNamespace(gamma=0.9, t_max=4, entropy_beta=1e-4, value_loss_coef=0.5)
    learner = A3C(model, cfg, BOX, np.random.default_rng(0))
    learner.on_episode_start()
    with torch.no_grad():
        for _ in range(3):  # an earlier segment, so the replay starts from a non-zero state
            learner.act(torch.rand(1, 3), 0)
    assert learner.state[0].shape == (1, 16 if separate else 8)
    learner.on_segment_start()
    obs = torch.rand(5, 3)
    state, seen = learner.state, []
    with torch.no_grad():  # what acting sees, step by step from the segment's start state
        for t in range(5):
            params, value, state = model.step(obs[t : t + 1], state)
            seen.append((*params, value))
        actions = [learner.act(obs[t : t + 1], 0)[0] for t in range(4)]
    segment = Segment.single(obs, torch.from_numpy(np.stack(actions)), torch.ones(4), torch.zeros(4, dtype=torch.bool),
                             False)
    (mean, var), values = learner.forward_segment(segment)
    for replayed, acted in zip((mean[:, 0], var[:, 0], values[:, 0]), zip(*seen, strict=True), strict=True):
        assert torch.allclose(replayed, torch.cat(acted), atol=1e-6)
    assert all(a.shape == (2,) and a.dtype == np.float32 and (np.abs(a) <= 2).all() for a in actions)
    learner.loss(segment, None)[0].backward()
    assert model.lstm.weight_hh.grad.abs().sum() > 0
    if separate:
        assert model.value_lstm.weight_hh.grad.abs().sum() > 0


def test_deterministic_play_is_the_clipped_mean():
    model = TableGaussian(torch.tensor([[3.0, -0.5]]), torch.ones(1, 2), torch.zeros(1))
    learner = A3C(model, SimpleNamespace(t_max=5), BOX, np.random.default_rng(0))
    actions, state = learner.play(torch.tensor([[0.0]]), deterministic=True)
    assert state is None and actions.dtype == np.float32 and actions.tolist() == [[2.0, -0.5]]


@pytest.mark.parametrize("lstm", [False, True])
def test_a3c_trains_on_pendulum_end_to_end(run_dir: Path, lstm: bool):
    proc = run_cli("algo=a3c", "env=pendulum", "total_steps=2000", f"model.lstm={str(lstm).lower()}",
                   "model.lstm_size=16", "eval.episodes=1", "progress=off", f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["global_steps"] >= 2000
    assert summary["episodes"] >= 8 and summary["final_eval_return"] < 0  # 200-step episodes, costs only
    config = (run_dir / ".hydra" / "config.yaml").read_text()
    assert "entropy_beta: 0.0001" in config  # conf/tuned/a3c_pendulum.yaml
