"""Atari 2600 games through ale-py, preprocessed with gymnasium's own wrappers.

The stack (paper section 8 / DQN): ``ALE/<Game>-v5`` with ``frameskip=1``,
then ``AtariPreprocessing`` (action repeat 4 with a max over the last two
frames, 84x84 grey, up to 30 no-op starts), then ``FrameStackObservation(4)``,
then :class:`LearningSignals` (reward clipping and life-loss terminals for
learning, with the real game score kept for the records). Observations stay
uint8 until the network scales them.
"""

from __future__ import annotations

from typing import Any

import ale_py
import gymnasium as gym

from asyncrl.config import ConfigError
from asyncrl.envs.signals import learning_signals

# Registration must happen in every process that builds an env (spawned
# workers import this module, so it does). ALE's start-up banner ("A.L.E: ...
# [Powered by Stella]") is an info message: print errors only, in every process.
gym.register_envs(ale_py)
ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)


class LearningSignals(gym.Wrapper):
    """Reward clipping and life-loss terminals for the learner only.

    The reward returned is clipped to [-clip, clip]; ``info["raw_reward"]``
    holds the game's own reward so episode records report the real score.
    With ``life_loss_terminal``, ``info["life_lost"]`` is true on the step a
    life is lost: the worker ends the training segment there as a terminal,
    but the game (and the recorded episode) goes on until it is really over.
    Both come from :func:`~asyncrl.envs.signals.learning_signals`, as with
    ale-py's vector env.
    """

    def __init__(self, env: gym.Env, clip: float | None, life_loss_terminal: bool) -> None:
        super().__init__(env)
        self.clip = clip
        self.life_loss_terminal = life_loss_terminal
        self.lives = 0

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self.lives = int(info.get("lives", 0))
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        lives = int(info.get("lives", self.lives))
        signal = learning_signals(reward, terminated, lives, self.lives, self.clip, self.life_loss_terminal)
        self.lives = lives
        info["raw_reward"] = float(reward)
        info["life_lost"] = bool(signal.life_lost)
        return obs, float(signal.reward), terminated, truncated, info


def game_id(game: str) -> str:
    """``ALE/<Game>-v5`` for a game as ale-py names it (``Breakout``, ``BeamRider``)."""
    return f"ALE/{game}-v5"


def make_atari_env(env_cfg: Any, render_mode: str | None = None) -> gym.Env:
    """The paper's Atari stack for ``env_cfg.game``."""
    env = gym.make(game_id(env_cfg.game), frameskip=1, render_mode=render_mode,
                   repeat_action_probability=env_cfg.repeat_action_probability,
                   full_action_space=env_cfg.full_action_space)
    env = gym.wrappers.AtariPreprocessing(env, noop_max=env_cfg.noop_max, frame_skip=env_cfg.frame_skip,
                                          screen_size=84, terminal_on_life_loss=False, grayscale_obs=True)
    env = gym.wrappers.FrameStackObservation(env, env_cfg.frame_stack)
    return LearningSignals(env, env_cfg.clip_rewards, env_cfg.life_loss_terminal)


def make_atari_vector_env(env_cfg: Any, num_envs: int) -> gym.vector.VectorEnv:
    """``num_envs`` copies of the same stack in ale-py's C++ vector env.

    The preprocessing matches :func:`make_atari_env` (action repeat with a max
    over the last two frames, 84x84 grey, no-op starts, frame stack, ALE's
    full-game length cap). Rewards come back unclipped and lives in the info;
    :class:`~asyncrl.envs.batch.VectorEnvAdapter` derives the learning signals
    and resets finished games itself. It needs next-step autoreset: in
    same-step mode ale-py reports the next game's lives on the step a game
    ends, hiding a life lost on a truncating step.
    """
    from ale_py.vector_env import AtariVectorEnv

    return AtariVectorEnv(
        game=_rom_name(env_cfg.game), num_envs=num_envs, frameskip=env_cfg.frame_skip,
        stack_num=env_cfg.frame_stack, noop_max=env_cfg.noop_max, img_height=84, img_width=84, grayscale=True,
        maxpool=True, repeat_action_probability=env_cfg.repeat_action_probability,
        full_action_space=env_cfg.full_action_space, reward_clipping=False, episodic_life=False,
        use_fire_reset=False,  # the gymnasium stack (K = 1) presses no FIRE at reset either
        autoreset_mode="NextStep",
        # One thread per worker: the workers already fill the cores.
        num_threads=1, batch_size=num_envs)


def _rom_name(game: str) -> str:
    """ale-py's ROM name for a game as gymnasium names it: ``BeamRider`` -> ``beam_rider``."""
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(game))


def check_atari_config(env_cfg: Any) -> None:
    """Reject a game ale-py does not ship, with the list of what it has."""
    try:
        gym.spec(game_id(env_cfg.game))
    except gym.error.Error:
        raise ConfigError(f"env.game={env_cfg.game!r}: not an Atari game ale-py ships "
                          f"(e.g. Breakout, Pong, BeamRider, Qbert, SpaceInvaders, Seaquest)") from None
