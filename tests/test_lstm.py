"""A3C-LSTM: state reset per episode, carried across segments, replayed exactly."""

from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import torch

from asyncrl.learners import A3C, Segment
from asyncrl.nets import build_model

OBS = gym.spaces.Box(-1, 1, (4,), np.float32)
ACTIONS = gym.spaces.Discrete(2)


def lstm_learner() -> A3C:
    torch.manual_seed(0)
    model_cfg = SimpleNamespace(hidden=[16], activation="tanh", lstm=True, lstm_size=8)
    model = build_model("actor_critic", OBS, ACTIONS, model_cfg)
    cfg = SimpleNamespace(gamma=0.9, t_max=4, entropy_beta=0.01, value_loss_coef=0.5)
    return A3C(model, cfg, 2, np.random.default_rng(0))


def test_state_reset_at_episode_start_and_carried_across_segments():
    learner = lstm_learner()
    learner.on_episode_start()
    assert all(t.abs().sum() == 0 for t in learner.state)
    with torch.no_grad():
        for _ in range(3):
            learner.act(torch.rand(4), 0)
    carried = learner.state
    assert carried[0].abs().sum() > 0
    learner.on_segment_start()  # a new segment in the same episode keeps the state
    assert all(torch.equal(a, b) for a, b in zip(learner.segment_state, carried, strict=True))
    learner.on_episode_start()
    assert all(t.abs().sum() == 0 for t in learner.state)


def test_recomputed_segment_matches_the_acting_pass():
    learner = lstm_learner()
    learner.on_episode_start()
    with torch.no_grad():  # an earlier segment, so the replay starts from a non-zero state
        for _ in range(5):
            learner.act(torch.rand(4), 0)
    learner.on_segment_start()
    seen = []
    step = learner.model.step

    def recording_step(obs, state):
        logits, value, new_state = step(obs, state)
        seen.append((logits[0].clone(), value[0].clone()))
        return logits, value, new_state

    learner.model.step = recording_step
    obs = torch.rand(5, 4)
    with torch.no_grad():
        actions = [learner.act(obs[t], 0) for t in range(4)]
        learner.act(obs[4], 0)  # the bootstrap state, as the next segment would see it
    logits, values = learner.forward_segment(obs)
    assert torch.allclose(logits, torch.stack([s[0] for s in seen]), atol=1e-6)
    assert torch.allclose(values, torch.stack([s[1] for s in seen]), atol=1e-6)

    segment = Segment(obs, torch.tensor(actions), torch.ones(4), torch.zeros(4, dtype=torch.bool), False)
    loss, _ = learner.loss(segment, None)
    loss.backward()  # truncated backprop: gradients reach the LSTM, not the detached start state
    assert learner.model.lstm.weight_hh.grad.abs().sum() > 0
    assert learner.segment_state[0].grad is None
