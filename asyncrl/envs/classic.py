"""Gymnasium environments with vector observations (CartPole, Acrobot, ...).

An observation space gymnasium can flatten to a vector (Discrete as one-hot,
MultiDiscrete, MultiBinary, Tuple, Dict, a Box of one or two dimensions) goes
through gymnasium's ``FlattenObservation``, so toy tasks such as FrozenLake,
Taxi and Blackjack train as they are. Images (a Box of three dimensions) and
spaces without a vector form (Sequence, Graph) are refused in one line.
"""

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
    space = env.observation_space
    if not (isinstance(space, gym.spaces.Box) and len(space.shape) == 1) and flattens_to_vector(space):
        env = gym.wrappers.FlattenObservation(env)
    if env.observation_space.dtype != np.float32:
        flat = env.observation_space
        env = gym.wrappers.TransformObservation(
            env, lambda o: np.asarray(o, dtype=np.float32),
            gym.spaces.Box(flat.low.astype(np.float32), flat.high.astype(np.float32), flat.shape, np.float32))
    if env_cfg.reward_scale != 1.0:
        env = ScaleReward(env, env_cfg.reward_scale)
    return env


def flattens_to_vector(space: gym.Space) -> bool:
    """Whether gymnasium flattens ``space`` to a 1-D Box (images excepted: they want a CNN, not an MLP)."""
    if isinstance(space, gym.spaces.Box):
        return len(space.shape) <= 2
    if isinstance(space, gym.spaces.Tuple):
        return all(map(flattens_to_vector, space.spaces))
    if isinstance(space, gym.spaces.Dict):
        return all(map(flattens_to_vector, space.spaces.values()))
    return isinstance(space, (gym.spaces.Discrete, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary))


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


# The simulators some gymnasium envs need, by a word of gymnasium's message, and asyncrl's extra for each.
EXTRAS = {"box2d": ("Box2D", "box2d"), "mujoco": ("MuJoCo", "mujoco")}


def missing_dependency(env_id: str, message: str) -> str:
    """One line for an env whose simulator is not installed, naming asyncrl's extra where there is one.

    gymnasium's own advice (``pip install swig``, then ``gymnasium[box2d]``) builds
    box2d-py from source; asyncrl's extras install wheels.
    """
    for word, (name, extra) in EXTRAS.items():
        if word in message.lower():
            return f"env.id={env_id!r}: needs {name}, which is not installed: pip install 'asyncrl[{extra}]'"
    return f"env.id={env_id!r}: {message.strip().splitlines()[0]}"


def check_env_config(env_cfg: Any) -> tuple[gym.Space, gym.Space]:
    """Check the env exists and its observation is (or flattens to) a vector; return the spaces the learner sees."""
    # "module:EnvId" ids register their env on import, as gymnasium.make does.
    module, _, name = env_cfg.id.rpartition(":")
    if name.startswith("ALE/"):
        game = name.removeprefix("ALE/").split("-v")[0]
        raise ConfigError(f"env.id={env_cfg.id!r}: an Atari game; use env=atari env.game={game} "
                          f"(the paper's preprocessing and network)")
    try:
        if module:
            importlib.import_module(module)
        gym.spec(name)
    except (gym.error.Error, ModuleNotFoundError):
        raise ConfigError(f"env.id={env_cfg.id!r}: not a registered gymnasium environment id") from None
    try:
        env = gym.make(env_cfg.id)
    except gym.error.DependencyNotInstalled as exc:
        raise ConfigError(missing_dependency(env_cfg.id, str(exc))) from None
    try:
        raw = env.observation_space
    finally:
        env.close()
    if not (isinstance(raw, gym.spaces.Box) and len(raw.shape) == 1) and not flattens_to_vector(raw):
        what = "image observations are" if isinstance(raw, gym.spaces.Box) else "an observation space that " \
            "does not flatten to a vector is"
        raise ConfigError(f"env.id={env_cfg.id!r}: {what} not supported by env=gym (needs a vector), got {raw}")
    env = make_env(env_cfg)
    try:
        return env.observation_space, env.action_space
    finally:
        env.close()


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
