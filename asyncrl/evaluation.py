"""Evaluation episodes: what :meth:`asyncrl.Agent.evaluate`, ``python -m asyncrl.evaluate`` and
training's own evaluations (:class:`BackgroundEvaluator`) play."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import gymnasium as gym
import numpy as np
import torch

from asyncrl.envs import make_env

if TYPE_CHECKING:
    from asyncrl.agent import Agent

DEFAULT_MAX_EPISODE_STEPS = 100_000


@dataclass
class EvalResult:
    """Returns and lengths of the evaluation episodes."""

    returns: list[float]
    lengths: list[int]

    @property
    def mean(self) -> float | None:
        return sum(self.returns) / len(self.returns) if self.returns else None


@torch.no_grad()
def play_episodes(agent: Agent, episodes: int, seed: int, max_steps: int, deterministic: bool = True,
                  epsilon: float = 0.0, video_dir: Path | None = None) -> EvalResult:
    """Play ``episodes`` whole episodes with ``agent``; returns are the game's own score.

    Episode i starts from ``env.reset(seed=seed + i)``; a recurrent agent's
    state starts afresh each episode. With ``epsilon`` > 0 a uniformly random
    action (for a Box: uniform within its bounds) replaces the agent's with
    that probability (a recurrent agent still sees every observation). With
    ``video_dir`` the first episode is recorded there as an mp4.
    """
    if video_dir is not None:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # classic-control renders off-screen
    env = make_env(agent.config.env, render_mode="rgb_array" if video_dir is not None else None)
    if video_dir is not None:
        env = gym.wrappers.RecordVideo(env, str(video_dir), episode_trigger=lambda e: e == 0, name_prefix="eval",
                                       disable_logger=True)
    rng = np.random.default_rng(seed)
    env.action_space.seed(seed)
    result = EvalResult([], [])
    try:
        for episode in range(episodes):
            obs, _ = env.reset(seed=seed + episode)
            state, total, steps, done = None, 0.0, 0, False
            while not done and steps < max_steps:
                actions, state = agent.act(np.asarray(obs)[None], state, deterministic)
                action = actions[0].item() if isinstance(env.action_space, gym.spaces.Discrete) else actions[0]
                if epsilon > 0 and rng.random() < epsilon:
                    action = env.action_space.sample()
                obs, reward, terminated, truncated, info = env.step(action)
                total += float(info.get("raw_reward", reward))
                steps += 1
                done = terminated or truncated
            result.returns.append(total)
            result.lengths.append(steps)
    finally:
        env.close()
    return result


class BackgroundEvaluator:
    """Greedy evaluations of snapshots of the shared network, one at a time, in a thread.

    The main process keeps draining worker records while an evaluation runs,
    so workers never wait for it. ``poll`` hands back a finished result.
    """

    def __init__(self, episodes: int, max_steps: int, seed: int) -> None:
        self.episodes, self.max_steps, self.seed = episodes, max_steps, seed
        self.thread: threading.Thread | None = None
        self.result: tuple[int, EvalResult] | None = None
        self.error: BaseException | None = None

    @property
    def busy(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, agent: Agent) -> bool:
        """Evaluate ``agent`` (over a private snapshot of the network); False if one is still running."""
        if self.busy:
            return False
        self.thread = threading.Thread(target=self._run, args=(agent,), daemon=True, name="asyncrl-eval")
        self.thread.start()
        return True

    def _run(self, agent: Agent) -> None:
        try:
            self.result = (agent.global_step, play_episodes(agent, self.episodes, self.seed, self.max_steps))
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread by poll()
            self.error = exc

    def poll(self) -> tuple[int, EvalResult] | None:
        """The (global_step, result) of a finished evaluation, once; re-raises its error."""
        if self.busy or self.thread is None:
            return None
        self.thread = None
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        result, self.result = self.result, None
        return result

    def wait(self) -> tuple[int, EvalResult] | None:
        """Let a running evaluation finish and return it."""
        if self.thread is not None:
            self.thread.join()
        return self.poll()
