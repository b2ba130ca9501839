"""Atari learning signals: clipped rewards and life-loss terminals, for K envs at once.

One pure function serves both ways a worker steps Atari: the gymnasium
wrapper (one env, :class:`~asyncrl.envs.atari.LearningSignals`) and the
vector-env adapter (K envs, :class:`~asyncrl.envs.batch.VectorEnvAdapter`),
so the two cannot disagree. It imports no emulator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class LearningSignal:
    """What the learner sees of one step of K envs; every array has K rows."""

    reward: np.ndarray  # float64: the reward clipped to [-clip, clip] (as given without clip)
    terminal: np.ndarray  # bool: the game ended, or (with life-loss terminals) a life was lost
    life_lost: np.ndarray  # bool: a life was lost and the game goes on (a terminal for learning only)


def learning_signals(reward: ArrayLike, terminated: ArrayLike, lives: ArrayLike | None,
                     lives_before: ArrayLike | None, clip: float | None,
                     life_loss_terminal: bool) -> LearningSignal:
    """The learning reward and terminal of one step from the game's own reward and lives.

    ``lives`` are each game's lives at the end of this step (before any
    reset), ``lives_before`` at its start; None where the env reports no
    lives. With ``life_loss_terminal`` a life lost is a terminal for learning:
    the value of that life is 0. That holds on a step where the episode is
    also truncated (a time limit): the life still ended, so the learner does
    not bootstrap from the next life's first observation; truncation plays no
    part here. A life lost on the step the game ends (``terminated``) is just
    that game's end, not flagged as ``life_lost``.
    """
    terminated = np.asarray(terminated, dtype=bool)
    learn_reward = np.asarray(reward, dtype=np.float64)
    if clip is not None:
        learn_reward = np.clip(learn_reward, -clip, clip)
    life_lost = np.zeros_like(terminated)
    if life_loss_terminal and lives is not None and lives_before is not None:
        life_lost = (np.asarray(lives) < np.asarray(lives_before)) & ~terminated
    return LearningSignal(learn_reward, terminated | life_lost, life_lost)
