"""Gymnasium environments with vector observations (CartPole, Acrobot, ...)."""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium as gym
import numpy as np

from asyncrl.config import ConfigError


def make_env(env_cfg: Any, render_mode: str | None = None) -> gym.Env:
    """Build one environment; each worker calls this for its own copy."""
    kwargs: dict[str, Any] = {}
    if env_cfg.max_episode_steps is not None:
        kwargs["max_episode_steps"] = env_cfg.max_episode_steps
    env = gym.make(env_cfg.id, render_mode=render_mode, **kwargs)
    if env.observation_space.dtype != np.float32:
        env = gym.wrappers.TransformObservation(
            env, lambda o: np.asarray(o, dtype=np.float32),
            gym.spaces.Box(-np.inf, np.inf, env.observation_space.shape, np.float32))
    scale = getattr(env_cfg, "reward_scale", 1.0)  # absent from configs saved before it existed
    if scale != 1.0:
        env = ScaleReward(env, scale)
    return env


class ScaleReward(gym.Wrapper):
    """The learning reward times ``scale``; ``info["raw_reward"]`` keeps the env's own.

    Episode returns in metrics.jsonl and evaluations are the env's own score.
    """

    def __init__(self, env: gym.Env, scale: float) -> None:
        super().__init__(env)
        self.scale = scale

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, float(reward) * self.scale, terminated, truncated, {**info, "raw_reward": reward}


def check_env_config(env_cfg: Any) -> tuple[gym.Space, gym.Space]:
    """Check the env exists and has a vector observation; return its spaces."""
    # "module:EnvId" ids register their env on import, as gymnasium.make does.
    module, _, name = env_cfg.id.rpartition(":")
    try:
        if module:
            importlib.import_module(module)
        gym.spec(name)
    except (gym.error.Error, ModuleNotFoundError):
        raise ConfigError(f"env.id={env_cfg.id!r}: not a registered gymnasium environment id") from None
    env = make_env(env_cfg)
    try:
        obs_space, action_space = env.observation_space, env.action_space
    finally:
        env.close()
    if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 1:
        raise ConfigError(f"env.id={env_cfg.id!r}: needs a vector (1-D Box) observation, got {obs_space}")
    return obs_space, action_space


def make_cartpole_no_velocity(**kwargs: Any) -> gym.Env:
    """CartPole-v1 observing only cart position and pole angle (no velocities).

    A partially observed task: a feed-forward policy sees no motion, so a
    recurrent one (A3C-LSTM) has something to remember.
    """
    env = gym.make("CartPole-v1", **kwargs).env  # the time limit is added by our own registration
    space = gym.spaces.Box(env.observation_space.low[[0, 2]], env.observation_space.high[[0, 2]],
                           dtype=np.float32)
    return gym.wrappers.TransformObservation(env, lambda o: np.asarray(o[[0, 2]], dtype=np.float32), space)


if "asyncrl/CartPoleNoVelocity-v1" not in gym.registry:
    gym.register("asyncrl/CartPoleNoVelocity-v1", entry_point=make_cartpole_no_velocity, max_episode_steps=500)
