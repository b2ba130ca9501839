"""Environment factories: one function builds a worker's env from the config.

``env.kind`` picks the family: ``gym`` (vector observations, any registered
id) or ``atari`` (ale-py with the paper's preprocessing).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from asyncrl.envs import classic


def make_env(env_cfg: Any, render_mode: str | None = None) -> gym.Env:
    """Build one environment; each worker calls this for its own copy."""
    if env_cfg.kind == "atari":
        from asyncrl.envs.atari import make_atari_env  # imports ale-py only when needed

        return make_atari_env(env_cfg, render_mode)
    return classic.make_env(env_cfg, render_mode)


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


__all__ = ["check_env_config", "env_id", "make_env"]
