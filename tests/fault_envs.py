"""Environments that fail on purpose, for fault tests.

Workers build them by id (``env.id=tests.fault_envs:FaultyCartPole-v0``):
gymnasium imports this module in the worker first, which registers them.
"""

from __future__ import annotations

import gymnasium as gym
from gymnasium.envs.classic_control import CartPoleEnv


class FaultyCartPole(CartPoleEnv):
    """CartPole that raises after ``fail_after`` steps."""

    def __init__(self, fail_after: int = 300, **kwargs) -> None:
        super().__init__(**kwargs)
        self.fail_after = fail_after
        self.steps = 0

    def step(self, action):
        self.steps += 1
        if self.steps > self.fail_after:
            raise RuntimeError("injected fault in env.step")
        return super().step(action)


if "FaultyCartPole-v0" not in gym.registry:
    gym.register("FaultyCartPole-v0", entry_point=FaultyCartPole, max_episode_steps=500)
