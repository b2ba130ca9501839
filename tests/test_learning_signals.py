"""Atari learning signals: one function, and the same signals with one env per worker or eight.

A scripted game runs through the K = 1 path (the gymnasium wrapper under
:class:`SingleEnv`) and through the K > 1 path (:class:`VectorEnvAdapter`
over a gymnasium vector env of 8 copies, next-step autoreset as ale-py's is
built); both must give the learner the same rewards and terminals.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest

from asyncrl.envs.atari import LearningSignals
from asyncrl.envs.batch import BatchStep, SingleEnv, VectorEnvAdapter
from asyncrl.envs.signals import learning_signals

START_LIVES = 3
# Episodes of (reward, lives after the step, terminated, truncated); the env plays them in turn.
EPISODES = [
    [(5.0, 3, False, False), (-3.0, 2, False, False), (0.5, 2, False, False),
     (2.0, 1, False, True)],  # a life lost on the step the time limit truncates the episode
    [(-0.25, 3, False, False), (7.0, 2, False, False), (1.0, 2, False, False),
     (-2.0, 0, True, False)],  # the game really ends, losing its last life
    [(1.0, 3, False, True)],  # truncated with no life lost
]
# What the learner must see at each step, with clip=1 and life-loss terminals.
REWARDS = [1.0, -1.0, 0.5, 1.0, -0.25, 1.0, 1.0, -1.0, 1.0]
RAW_REWARDS = [5.0, -3.0, 0.5, 2.0, -0.25, 7.0, 1.0, -2.0, 1.0]
TERMINALS = [False, True, False, True, False, True, False, True, False]


class ScriptedGame(gym.Env):
    """Plays :data:`EPISODES` in turn; the observation is (episode, step) so resets are visible."""

    observation_space = gym.spaces.Box(0, 100, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self) -> None:
        self.episode, self.t = -1, 0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.episode, self.t = (self.episode + 1) % len(EPISODES), 0
        return self._obs(), {"lives": START_LIVES}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        reward, lives, terminated, truncated = EPISODES[self.episode][self.t]
        self.t += 1
        return self._obs(), reward, terminated, truncated, {"lives": lives}

    def _obs(self) -> np.ndarray:
        return np.array([self.episode, self.t], np.float32)


def one_env() -> SingleEnv:
    return SingleEnv(LearningSignals(ScriptedGame(), clip=1.0, life_loss_terminal=True))


def eight_envs() -> VectorEnvAdapter:
    envs = gym.vector.SyncVectorEnv([ScriptedGame] * 8, autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP)
    return VectorEnvAdapter(envs, clip=1.0, life_loss_terminal=True)


def test_one_env_and_eight_envs_give_the_same_learning_signals():
    single, vector = one_env(), eight_envs()
    assert np.array_equal(np.repeat(single.reset(seed=0), 8, axis=0), vector.reset(seed=0))
    seen: list[BatchStep] = []
    for _ in range(len(REWARDS) + 2):  # and on into the first episode again
        one = single.step(np.zeros(1, np.int64))
        many = vector.step(np.zeros(8, np.int64))
        for field in dataclasses.fields(BatchStep):
            mine, theirs = getattr(one, field.name), getattr(many, field.name)
            assert mine.dtype == theirs.dtype and np.array_equal(np.repeat(mine, 8, axis=0), theirs), field.name
        seen.append(one)
    steps = seen[:len(REWARDS)]
    assert [s.reward[0] for s in steps] == REWARDS
    assert [s.raw_reward[0] for s in steps] == RAW_REWARDS
    assert [s.terminal[0] for s in steps] == TERMINALS
    assert [s.truncated[0] for s in steps] == [False, False, False, True, False, False, False, False, True]
    assert [s.game_over[0] for s in steps] == [False] * 7 + [True, False]
    # The last observation of an ended episode comes back apart from the next episode's first.
    assert seen[3].final_obs[0].tolist() == [0, 4] and seen[3].obs[0].tolist() == [1, 0]
    assert [s.terminal[0] for s in seen[len(REWARDS):]] == [False, True]  # lives restart with the new game


def test_a_life_lost_is_terminal_even_on_a_truncating_step_but_a_game_over_is_no_life_lost():
    signal = learning_signals(reward=[5.0, -3.0, 2.0, -2.0, 0.5], terminated=[False, False, False, True, False],
                              lives=[3, 2, 1, 0, 2], lives_before=[3, 3, 2, 1, 2], clip=1.0,
                              life_loss_terminal=True)
    assert signal.reward.tolist() == [1.0, -1.0, 1.0, -1.0, 0.5]
    assert signal.life_lost.tolist() == [False, True, True, False, False]
    assert signal.terminal.tolist() == [False, True, True, True, False]


@pytest.mark.parametrize("lives", [[2, 1], None])
def test_without_life_loss_terminals_only_the_game_end_is_terminal(lives: list[int] | None):
    signal = learning_signals(reward=[5.0, -3.0], terminated=[False, True], lives=lives, lives_before=[3, 2],
                              clip=None, life_loss_terminal=lives is None)
    assert signal.reward.tolist() == [5.0, -3.0]
    assert signal.terminal.tolist() == [False, True] and not signal.life_lost.any()


def test_the_wrapper_keeps_the_real_score_and_flags_the_life_lost():
    env = LearningSignals(ScriptedGame(), clip=1.0, life_loss_terminal=True)
    env.reset()
    infos = [env.step(0)[4] for _ in range(4)]
    assert [i["raw_reward"] for i in infos] == RAW_REWARDS[:4]
    assert [i["life_lost"] for i in infos] == TERMINALS[:4]


def test_the_adapter_refuses_a_vector_env_that_resets_in_the_same_step():
    envs = gym.vector.SyncVectorEnv([ScriptedGame] * 2, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    with pytest.raises(ValueError, match="next-step autoreset"):
        VectorEnvAdapter(envs)
