"""Segments collected from K environments: shapes, episode ends, truncation, Sarsa's a'.

A counting env makes every observation, reward and episode end known in
advance: obs = [episode * 100 + t], reward t + 1, terminal after ``length``
steps, and a time limit through gymnasium's TimeLimit.
"""

from __future__ import annotations

from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import torch

from asyncrl.envs import SingleEnv, VectorEnvAdapter
from asyncrl.learners import Learner, Segment
from asyncrl.runtime.rollout import Rollout


class CountingEnv(gym.Env):
    observation_space = gym.spaces.Box(-1e9, 1e9, (1,), np.float32)
    action_space = gym.spaces.Discrete(3)

    def __init__(self, length: int) -> None:
        self.length, self.episode, self.t = length, -1, 0

    def obs(self) -> np.ndarray:
        return np.array([self.episode * 100 + self.t], dtype=np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.episode, self.t = self.episode + 1, 0
        return self.obs(), {}

    def step(self, action):
        self.t += 1
        return self.obs(), float(self.t), self.t >= self.length, False, {}


def counting(length: int, limit: int | None = None) -> gym.Env:
    env = CountingEnv(length)
    return gym.wrappers.TimeLimit(env, limit) if limit else env


class Scripted(Learner):
    """Acts ``obs % 3`` (so actions are checkable) and records what it was asked."""

    def __init__(self, t_max: int) -> None:
        super().__init__(torch.nn.Identity(), SimpleNamespace(t_max=t_max), 3, np.random.default_rng(0))
        self.t_max, self.starts = t_max, []

    @property
    def segment_length(self) -> int:
        return self.t_max

    def act(self, obs, global_step):
        return (obs[:, 0].long() % 3).numpy()

    def play(self, obs, state=None, deterministic=False):
        raise AssertionError("not used")

    def loss(self, segment, target_net):
        raise AssertionError("not used")

    def on_episode_start(self, envs=None):
        self.starts.append(None if envs is None else envs.copy())


def vector(*envs: gym.Env) -> VectorEnvAdapter:
    return VectorEnvAdapter(gym.vector.SyncVectorEnv([lambda e=e: e for e in envs],
                                                     autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP))


def test_single_env_segment_ends_at_the_episode_end_as_in_the_paper():
    learner = Scripted(t_max=5)
    rollout = Rollout(SingleEnv(counting(3)), learner, seed=0)
    seg = rollout.collect(0)
    assert len(seg) == 3 and seg.num_envs == 1  # cut at the terminal, not at t_max
    assert seg.obs[:, 0, 0].tolist() == [0, 1, 2, 3]  # obs[T] is the episode's last observation
    assert seg.rewards[:, 0].tolist() == [1, 2, 3]
    assert seg.terminated[:, 0].tolist() == [False, False, True]
    assert not seg.truncated[0]
    assert rollout.finished_episodes() == [(0, 6.0, 3)]
    assert rollout.collect(0).obs[0, 0, 0].item() == 100  # the next segment starts the next episode
    assert learner.starts[-1].tolist() == [True]


def test_k_envs_step_in_lockstep_across_episode_ends():
    learner = Scripted(t_max=4)
    rollout = Rollout(vector(counting(2), counting(3), counting(10)), learner, seed=0)
    seg = rollout.collect(0)
    assert seg.obs.shape == (5, 3, 1) and seg.actions.shape == (4, 3)
    # env 0 ends after steps 2 and 4; its next rows start new episodes
    assert seg.obs[:, 0, 0].tolist() == [0, 1, 100, 101, 102]  # obs[T]: the last state of episode 1
    assert seg.terminated[:, 0].tolist() == [False, True, False, True]
    assert seg.obs[:, 1, 0].tolist() == [0, 1, 2, 100, 101]
    assert seg.terminated[:, 1].tolist() == [False, False, True, False]
    assert seg.obs[:, 2, 0].tolist() == [0, 1, 2, 3, 4]
    assert not seg.terminated[:, 2].any()
    assert torch.equal(seg.episode_end, seg.terminated)
    assert seg.actions[:, 0].tolist() == [0, 1, 1, 2]  # obs % 3 of the rows acted on
    assert seg.rewards[:, 0].tolist() == [1, 2, 1, 2]
    assert sorted(rollout.finished_episodes()) == [(0, 3.0, 2), (0, 3.0, 2), (1, 6.0, 3)]


def test_a_truncation_ends_the_segment_with_the_last_observation_to_bootstrap_from():
    learner = Scripted(t_max=5)
    rollout = Rollout(vector(counting(100, limit=2), counting(100)), learner, seed=0)
    seg = rollout.collect(0)
    assert len(seg) == 2
    assert seg.truncated.tolist() == [True, False]
    assert not seg.terminated.any()
    assert seg.obs[:, 0, 0].tolist() == [0, 1, 2]  # the truncated episode's last state, not the reset one
    assert seg.episode_end[:, 0].tolist() == [False, True]
    assert rollout.finished_episodes() == [(0, 3.0, 2)]
    assert rollout.collect(0).obs[0, :, 0].tolist() == [100, 2]


def test_sarsa_next_action_is_executed_where_the_episode_goes_on():
    learner = Scripted(t_max=2)
    rollout = Rollout(vector(counting(2), counting(10)), learner, seed=0, needs_next_action=True)
    seg = rollout.collect(0)
    assert seg.next_action.tolist() == [2 % 3, 2 % 3]  # chosen in obs[T] = [2 (final), 2]
    nxt = rollout.collect(0)
    assert nxt.actions[0, 1].item() == seg.next_action[1].item()  # env 1 goes on: a' is executed
    assert nxt.actions[0, 0].item() == 100 % 3  # env 0 began a new episode: chosen afresh


def test_single_segment_helper_adds_the_env_axis():
    seg = Segment.single(torch.zeros(3, 4), torch.tensor([0, 1]), torch.ones(2), torch.tensor([False, True]), False, 1)
    assert seg.obs.shape == (3, 1, 4) and seg.actions.shape == (2, 1) and seg.num_envs == 1
    assert seg.next_action.tolist() == [1] and seg.truncated.tolist() == [False]


@pytest.mark.parametrize("k", [1, 3])
def test_atari_batch_env_signals(k):
    from omegaconf import OmegaConf

    from asyncrl.envs import make_batch_env

    cfg = OmegaConf.create({"kind": "atari", "game": "Breakout", "frame_skip": 4, "frame_stack": 4, "noop_max": 30,
                            "repeat_action_probability": 0.0, "full_action_space": False, "clip_rewards": 1.0,
                            "life_loss_terminal": True, "max_episode_steps": None})
    envs = make_batch_env(cfg, k)
    obs = envs.reset(seed=3)
    assert obs.shape == (k, 4, 84, 84) and obs.dtype == np.uint8
    rng = np.random.default_rng(0)
    lost = raw_total = clipped_total = 0.0
    for _ in range(400):
        out = envs.step(rng.integers(4, size=k))
        assert out.obs.shape == (k, 4, 84, 84) and out.reward.dtype == np.float32
        assert np.all(np.abs(out.reward) <= 1.0)
        lost += (out.terminal & ~out.game_over).sum()
        raw_total += out.raw_reward.sum()
        clipped_total += out.reward.sum()
    envs.close()
    assert lost > 0  # lives were lost and marked terminal without ending the game
    assert raw_total >= clipped_total > 0  # Breakout bricks score 1-7: the records keep the real score
