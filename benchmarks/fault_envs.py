"""Environments that fail on purpose, for the fault tests and the fault drills.

Workers build them by id (``env.id=benchmarks.fault_envs:FaultyCartPole-v0``,
with the repository root on the path): gymnasium imports this module in the
worker first, which registers them.
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


class NaNRewardCartPole(CartPoleEnv):
    """CartPole whose rewards become NaN after ``nan_after`` steps (for ``nan_steps`` steps)."""

    def __init__(self, nan_after: int = 200, nan_steps: int = 10**9, **kwargs) -> None:
        super().__init__(**kwargs)
        self.nan_after, self.nan_steps, self.steps = nan_after, nan_steps, 0

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        self.steps += 1
        if self.nan_after < self.steps <= self.nan_after + self.nan_steps:
            reward = float("nan")
        return obs, reward, terminated, truncated, info


class HangingCartPole(CartPoleEnv):
    """CartPole whose step blocks forever after ``hang_after`` steps (a stuck simulator)."""

    def __init__(self, hang_after: int = 300, **kwargs) -> None:
        super().__init__(**kwargs)
        self.hang_after, self.steps = hang_after, 0

    def step(self, action):
        self.steps += 1
        if self.steps > self.hang_after:
            import time

            while True:
                time.sleep(1)
        return super().step(action)


for _id, _cls, _kwargs in [("NaNRewardCartPole-v0", NaNRewardCartPole, {}),
                           ("NaNOnceCartPole-v0", NaNRewardCartPole, {"nan_steps": 1}),
                           ("HangingCartPole-v0", HangingCartPole, {})]:
    if _id not in gym.registry:
        gym.register(_id, entry_point=_cls, max_episode_steps=500, kwargs=_kwargs)
