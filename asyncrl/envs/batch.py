"""K environments behind one batched step: the worker's view of its envs.

A worker steps ``envs_per_worker`` environments at once and acts on all of
them with one batched forward. With K = 1 (the paper's setting) this is a
thin adapter over one gymnasium env. With K > 1 it wraps a gymnasium vector
env: ale-py's ``AtariVectorEnv`` for Atari (preprocessing in C++) and
gymnasium's ``SyncVectorEnv`` for the rest. Either way a finished env is
reset within the same step, so the returned observation is always the one to
act on next and the last observation of a finished episode comes back
separately.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from asyncrl.envs.signals import learning_signals


@dataclass
class BatchStep:
    """One step of K environments; every array has K rows."""

    obs: np.ndarray  # the next observations to act on (a new episode's first where one ended)
    reward: np.ndarray  # float32 reward for learning (clipped on Atari)
    raw_reward: np.ndarray  # float64 the game's own reward, for the episode records
    terminal: np.ndarray  # bool: terminal for learning (the episode ended, or a life was lost)
    game_over: np.ndarray  # bool: the episode really ended (gymnasium's terminated)
    truncated: np.ndarray  # bool: the episode hit its time limit
    final_obs: np.ndarray  # the last observation of each episode that ended (others: obs)

    @property
    def episode_end(self) -> np.ndarray:
        """Envs whose episode ended on this step, for any reason."""
        return self.game_over | self.truncated


class BatchEnv:
    """Common surface of the K = 1 adapter and the vector-env adapter."""

    num_envs: int
    observation_space: gym.Space  # of one env
    action_space: gym.Space  # of one env

    def reset(self, seed: int) -> np.ndarray:
        """Reset every env (env i seeded with ``seed + i``); observations [K, ...]."""
        raise NotImplementedError

    def step(self, actions: np.ndarray) -> BatchStep:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SingleEnv(BatchEnv):
    """One gymnasium env seen as a batch of one (K = 1, no vector-env overhead)."""

    num_envs = 1

    def __init__(self, env: gym.Env) -> None:
        self.env = env
        self.observation_space, self.action_space = env.observation_space, env.action_space
        self.discrete = isinstance(env.action_space, gym.spaces.Discrete)

    def reset(self, seed: int) -> np.ndarray:
        obs, _ = self.env.reset(seed=int(seed))
        return np.asarray(obs)[None]

    def step(self, actions: np.ndarray) -> BatchStep:
        action = actions[0].item() if self.discrete else actions[0]
        obs, reward, terminated, truncated, info = self.env.step(action)
        # Python scalars straight into one-row arrays: on small envs this is the hot path.
        terminal = bool(terminated or info.get("life_lost", False))
        final = np.asarray(obs)[None]
        if terminated or truncated:
            obs, _ = self.env.reset()
        return BatchStep(np.asarray(obs)[None], np.array([reward], dtype=np.float32),
                         np.array([info.get("raw_reward", reward)], dtype=np.float64), np.array([terminal]),
                         np.array([bool(terminated)]), np.array([bool(truncated)]), final)

    def close(self) -> None:
        self.env.close()


class VectorEnvAdapter(BatchEnv):
    """A gymnasium vector env with next-step autoreset, as a :class:`BatchEnv`.

    In next-step mode the step on which an episode ends reports that
    episode's own last observation and info (its ``lives`` included); the
    adapter then resets the finished envs at once (``reset_mask``) instead of
    letting the vector env spend their next step on it. ``clip`` and
    ``life_loss_terminal`` apply the Atari learning signals
    (:func:`~asyncrl.envs.signals.learning_signals`) when the vector env does
    not: ale-py's is built with reward clipping off and reports ``lives``.
    """

    def __init__(self, env: gym.vector.VectorEnv, clip: float | None = None, life_loss_terminal: bool = False) -> None:
        if env.metadata.get("autoreset_mode") != gym.vector.AutoresetMode.NEXT_STEP:
            raise ValueError(f"VectorEnvAdapter needs a vector env with next-step autoreset, "
                             f"got {env.metadata.get('autoreset_mode')}")
        self.env = env
        self.num_envs = env.num_envs
        self.observation_space, self.action_space = env.single_observation_space, env.single_action_space
        self.clip, self.life_loss_terminal = clip, life_loss_terminal
        self.lives: np.ndarray | None = None

    def reset(self, seed: int) -> np.ndarray:
        # ale-py's vector env takes 32-bit signed seeds (seed + i for env i).
        obs, info = self.env.reset(seed=int(seed) % (2**31 - self.num_envs))
        self.lives = np.asarray(info["lives"]) if "lives" in info else None
        return obs

    def step(self, actions: np.ndarray) -> BatchStep:
        final, reward, terminated, truncated, info = self.env.step(actions)
        terminated, truncated = np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool)
        lives = np.asarray(info["lives"]) if "lives" in info else None
        signal = learning_signals(reward, terminated, lives, self.lives, self.clip, self.life_loss_terminal)
        raw = np.asarray(info.get("raw_reward", reward), dtype=np.float64)
        ended = terminated | truncated
        obs = final
        if ended.any():
            obs, reset_info = self.env.reset(options={"reset_mask": ended})
            if lives is not None:
                lives = np.where(ended, reset_info["lives"], lives)
        self.lives = lives
        return BatchStep(obs, signal.reward.astype(np.float32), raw, signal.terminal, terminated, truncated, final)

    def close(self) -> None:
        self.env.close()
