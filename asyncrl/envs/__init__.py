"""Environment factories: one function builds a worker's env from the config.

``env.kind`` picks the family: ``gym`` (vector observations, any registered
id) or ``atari`` (ale-py with the paper's preprocessing).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from asyncrl.envs import classic
from asyncrl.envs.batch import BatchEnv, BatchStep, SingleEnv, VectorEnvAdapter


def make_env(env_cfg: Any, render_mode: str | None = None) -> gym.Env:
    """Build one environment; each worker calls this for its own copy."""
    if env_cfg.kind == "atari":
        from asyncrl.envs.atari import make_atari_env  # imports ale-py only when needed

        return make_atari_env(env_cfg, render_mode)
    return classic.make_env(env_cfg, render_mode)


def make_batch_env(env_cfg: Any, num_envs: int) -> BatchEnv:
    """A worker's ``num_envs`` environments behind one batched step.

    One env is the paper's setting and uses the same stack as :func:`make_env`.
    More use a vector env with next-step autoreset, whose finished envs the
    :class:`VectorEnvAdapter` resets within the step: ale-py's
    ``AtariVectorEnv`` for Atari, gymnasium's ``SyncVectorEnv`` otherwise.
    """
    if num_envs == 1:
        return SingleEnv(make_env(env_cfg))
    if env_cfg.kind == "atari":
        from asyncrl.envs.atari import make_atari_vector_env

        return VectorEnvAdapter(make_atari_vector_env(env_cfg, num_envs), env_cfg.clip_rewards,
                                env_cfg.life_loss_terminal)
    envs = gym.vector.SyncVectorEnv([lambda: make_env(env_cfg)] * num_envs,
                                    autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP)
    return VectorEnvAdapter(envs)


def check_env_config(env_cfg: Any) -> tuple[gym.Space, gym.Space]:
    """Reject an unknown env with one clear line; return its spaces."""
    if env_cfg.kind == "atari":
        from asyncrl.envs.atari import check_atari_config

        check_atari_config(env_cfg)
        env = make_env(env_cfg)
        try:
            return env.observation_space, env.action_space
        finally:
            env.close()
    return classic.check_env_config(env_cfg)


def env_id(env_cfg: Any) -> str:
    """The gymnasium id the config names (for summaries and plots)."""
    return f"ALE/{env_cfg.game}-v5" if env_cfg.kind == "atari" else env_cfg.id


__all__ = ["BatchEnv", "BatchStep", "SingleEnv", "VectorEnvAdapter", "check_env_config", "env_id", "make_batch_env",
           "make_env"]
