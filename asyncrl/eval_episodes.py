"""Evaluation episodes: what :meth:`asyncrl.Agent.evaluate`, ``python -m asyncrl.evaluate`` and
training's own evaluations (:class:`BackgroundEvaluator`) play."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import gymnasium as gym
import numpy as np
import torch

from asyncrl.envs import make_env

if TYPE_CHECKING:
    from asyncrl.config import Config
    from asyncrl.learners import Learner

# (episode number from 1, episodes planned, return, agent steps, cut off at the game-time bound)
EpisodeReport = Callable[[int, int, float, int, bool], None]


class Player(Protocol):
    """What :func:`play_episodes` plays with (:class:`asyncrl.Agent` is one)."""

    @property
    def config(self) -> Config: ...

    def act(self, obs: Any, state: Any = None, deterministic: bool = False) -> tuple[np.ndarray, Any]: ...


class Evaluee(Protocol):
    """What :class:`BackgroundEvaluator` evaluates (:class:`asyncrl.Agent` is one)."""

    global_step: int

    def plan(self, episodes: int = 10) -> EvalPlan: ...

    def play(self, plan: EvalPlan, seed: int = 0, *, report: EpisodeReport | None = None) -> EvalResult: ...


@dataclass
class EvalResult:
    """Returns and lengths of the evaluation episodes played, and why fewer were played than planned."""

    returns: list[float]
    lengths: list[int]
    truncated: list[bool] = field(default_factory=list)  # cut off at the per-episode bound
    planned: int = 0
    stopped_early: bool = False  # the step budget ran out before ``planned`` episodes

    @property
    def mean(self) -> float | None:
        return sum(self.returns) / len(self.returns) if self.returns else None


@dataclass(frozen=True)
class EvalPlan:
    """What one evaluation plays: the run's ``eval`` settings, with any the caller gave instead."""

    episodes: int
    max_episode_frames: int  # each episode is cut off after this much game time...
    max_episode_steps: int  # ...which is this many agent steps
    max_steps: int  # no new episode starts once this many agent steps are played
    deterministic: bool
    policy: str  # how it acts, in words

    def describe(self) -> str:
        """One line, printed before the evaluation starts."""
        return (f"up to {self.episodes} episodes of at most {self.max_episode_frames:,} frames "
                f"({self.max_episode_steps:,} steps) each, no new one after {self.max_steps:,} steps in all; "
                f"{self.policy}")


def plan_evaluation(config: Config, learner: Learner, trained_steps: int, episodes: int,
                    deterministic: bool | None = None, epsilon: float = 0.0, max_episode_frames: int | None = None,
                    max_steps: int | None = None) -> EvalPlan:
    """The plan of an evaluation of an agent that trained ``trained_steps`` steps; unset values from ``config.eval``.

    An episode's bound is in game time (``max_episode_frames``, whatever the
    frame skip). By default an evaluation plays no more steps than the agent
    trained (at least one whole episode): the evaluation of a 3,000-step run
    must not outlast the run, as ten capped episodes of an agent that never
    presses FIRE would.
    """
    eval_cfg = config.eval
    deterministic = eval_cfg.deterministic if deterministic is None else deterministic
    frames = max_episode_frames or eval_cfg.max_episode_frames
    bound = max(1, frames // config.env.frames_per_step)
    if max_steps is None:
        max_steps = eval_cfg.max_steps if eval_cfg.max_steps is not None else max(trained_steps, bound)
    policy = "greedy actions" if deterministic else learner.evaluation_policy
    if epsilon > 0:
        policy += f", and a uniformly random action with probability {epsilon:g}"
    return EvalPlan(episodes, frames, bound, max_steps, deterministic, policy)


def print_episode(number: int, planned: int, episode_return: float, steps: int, truncated: bool) -> None:
    """One line per evaluation episode: an evaluation prints as it goes."""
    cut = " (cut off at the game-time bound)" if truncated else ""
    print(f"eval episode {number}/{planned}: return {episode_return:g} in {steps:,} steps{cut}", flush=True)


@torch.no_grad()
def play_episodes(agent: Player, plan: EvalPlan, seed: int, epsilon: float = 0.0, video_dir: Path | None = None,
                  report: EpisodeReport | None = None) -> EvalResult:
    """Play up to ``plan.episodes`` episodes with ``agent``; returns are the game's own score.

    Each episode is cut off after ``plan.max_episode_steps`` agent steps, and
    no new episode starts once ``plan.max_steps`` steps have been played in
    all (the first always does). ``plan.deterministic`` takes greedy
    actions; otherwise the learner's evaluation policy
    (:meth:`asyncrl.learners.Learner.play`: A3C samples from its policy, the
    value-based learners act epsilon-greedily with epsilon 0.05). With
    ``epsilon`` > 0 a uniformly random action (for a Box: uniform within its
    bounds) replaces the agent's with that probability on top. Episode i
    starts from ``env.reset(seed=seed + i)``; a recurrent agent's state starts
    afresh each episode. ``report`` is called after each episode. With
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
    result = EvalResult([], [], planned=plan.episodes)
    played = 0
    try:
        for episode in range(plan.episodes):
            if episode > 0 and played >= plan.max_steps:
                result.stopped_early = True
                break
            obs, _ = env.reset(seed=seed + episode)
            state, total, steps, done = None, 0.0, 0, False
            while not done and steps < plan.max_episode_steps:
                actions, state = agent.act(np.asarray(obs)[None], state, plan.deterministic)
                action = actions[0].item() if isinstance(env.action_space, gym.spaces.Discrete) else actions[0]
                if epsilon > 0 and rng.random() < epsilon:
                    action = env.action_space.sample()
                obs, reward, terminated, truncated, info = env.step(action)
                total += float(info.get("raw_reward", reward))
                steps += 1
                done = terminated or truncated
            played += steps
            result.returns.append(total)
            result.lengths.append(steps)
            result.truncated.append(not done)
            if report is not None:
                report(episode + 1, plan.episodes, total, steps, not done)
    finally:
        env.close()
    return result


class BackgroundEvaluator:
    """Evaluations of snapshots of the shared network, one at a time, in a thread.

    The main process keeps draining worker records while an evaluation runs,
    so workers never wait for it. ``poll`` hands back a finished result.
    Each evaluation follows the run's ``eval`` config (:meth:`asyncrl.Agent.play`).
    """

    def __init__(self, episodes: int, seed: int) -> None:
        self.episodes, self.seed = episodes, seed
        self.report: EpisodeReport | None = None  # set for an evaluation that prints as it goes
        self.thread: threading.Thread | None = None
        self.result: tuple[int, EvalResult] | None = None
        self.error: BaseException | None = None

    @property
    def busy(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, agent: Evaluee) -> bool:
        """Evaluate ``agent`` (over a private snapshot of the network); False if one is still running."""
        if self.busy:
            return False
        self.thread = threading.Thread(target=self._run, args=(agent,), daemon=True, name="asyncrl-eval")
        self.thread.start()
        return True

    def _run(self, agent: Evaluee) -> None:
        try:
            plan = agent.plan(self.episodes)
            if self.report is not None:  # an evaluation that prints as it goes says first what it plays
                print(f"evaluating: {plan.describe()}", flush=True)
            self.result = (agent.global_step, agent.play(plan, self.seed, report=self.report))
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
