"""Environment factories: one function builds a worker's env from the config."""

from asyncrl.envs.classic import check_env_config, make_env

__all__ = ["check_env_config", "make_env"]
