"""A trained agent: load it from a run, act on a batch of observations, evaluate it.

    agent = asyncrl.Agent.load("outputs/2026-12-02/10-00-00_a3c_cartpole")
    actions, state = agent.act(obs_batch)                 # [B, *obs_shape] -> [B]
    report = agent.evaluate(episodes=10, seed=0)          # what eval.json holds (the run's eval settings)

Acting is the learner's own (:meth:`asyncrl.learners.Learner.play`), built by
the composition root from the run's saved config, so an agent acts exactly as
the training's evaluation does.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from asyncrl.build import RunParts, build_run
from asyncrl.checkpoint import FILENAME, CheckpointError, load_checkpoint
from asyncrl.config import Config
from asyncrl.eval_episodes import EpisodeReport, EvalPlan, EvalResult, plan_evaluation, play_episodes


class Agent:
    """A network with its algorithm's way of acting; see :meth:`load`."""

    def __init__(self, parts: RunParts, model: nn.Module, global_step: int = 0, seed: int = 0) -> None:
        """An agent over ``model`` (not copied), built for ``parts``; ``seed`` seeds its action sampling."""
        self.parts = parts
        self.model = model.eval()
        self.global_step = global_step
        self.learner = parts.learner(self.model, np.random.default_rng(seed))

    @classmethod
    def load(cls, path: str | Path, seed: int = 0) -> Agent:
        """The agent saved in a run directory (its ``checkpoint.pt``) or in a checkpoint file.

        Raises :class:`asyncrl.CheckpointError` for a missing or unreadable file,
        :class:`asyncrl.ConfigError` when its config no longer validates.
        """
        path = Path(path)
        ckpt = load_checkpoint(path / FILENAME if path.is_dir() else path)
        return cls.from_checkpoint(build_run(ckpt["config"]), ckpt, path, seed)

    @classmethod
    def from_checkpoint(cls, parts: RunParts, ckpt: dict[str, Any], path: Path, seed: int = 0) -> Agent:
        """The agent of a loaded checkpoint (from ``path``), for the parts of its config (already validated)."""
        with torch.random.fork_rng():  # the weights come from the file; leave the caller's random stream alone
            model = parts.network()
        try:
            model.load_state_dict(ckpt["model"])
        except RuntimeError as exc:
            raise CheckpointError(f"{path}: its network does not match its config "
                                  f"({str(exc).splitlines()[0]})") from None
        return cls(parts, model, int(ckpt["global_step"]), seed)

    @property
    def config(self) -> Config:
        """The run's typed config."""
        return self.parts.config

    @property
    def observation_space(self) -> gym.Space:
        return self.parts.observation_space

    @property
    def action_space(self) -> gym.Space:
        return self.parts.action_space

    def seed(self, seed: int) -> None:
        """Restart the random stream the agent samples actions (or explores) with."""
        self.learner.rng = np.random.default_rng(seed)

    @torch.no_grad()
    def act(self, obs: Any, state: Any = None, deterministic: bool = False) -> tuple[np.ndarray, Any]:
        """Actions for a batch of observations ``[B, *obs_shape]``; returns ``(actions, state)``.

        ``state`` carries a recurrent (LSTM) agent's memory from one call to
        the next: pass None at the start of the episodes and give back what
        the previous call returned. Feed-forward agents return None.
        ``deterministic`` takes the greedy action (argmax, or a Gaussian's
        mean); otherwise A3C samples from its policy and the value-based
        agents act epsilon-greedily with epsilon 0.05 (the evaluation policy).
        """
        batch = torch.as_tensor(np.asarray(obs, dtype=self.observation_space.dtype))
        if batch.shape[1:] != self.observation_space.shape:
            raise ValueError(f"obs must have shape [B, {', '.join(map(str, self.observation_space.shape))}], "
                             f"got {list(batch.shape)}")
        return self.learner.play(batch, state, deterministic)

    def plan(self, episodes: int = 10, deterministic: bool | None = None, epsilon: float = 0.0,
             max_episode_frames: int | None = None, max_steps: int | None = None) -> EvalPlan:
        """What an evaluation of this agent plays (:func:`asyncrl.eval_episodes.plan_evaluation`).

        Unset arguments come from the run's ``eval`` config: ``deterministic``
        (false: A3C samples from its policy, the value-based agents act
        epsilon-greedily with epsilon 0.05), ``max_episode_frames`` (each
        episode is cut off after this much game time, 18,000 frames = 5
        minutes on Atari) and ``max_steps`` (no new episode starts once this
        many agent steps are played; by default as many as the agent trained,
        so a short run's evaluation stays short, and at least one episode).
        """
        return plan_evaluation(self.config, self.learner, self.global_step, episodes, deterministic, epsilon,
                               max_episode_frames, max_steps)

    def play(self, plan: EvalPlan, seed: int = 0, epsilon: float = 0.0, video_dir: Path | None = None,
             report: EpisodeReport | None = None) -> EvalResult:
        """Play ``plan`` (from :meth:`plan`) in a fresh env, the action sampling seeded with ``seed``."""
        self.seed(seed)
        return play_episodes(self, plan, seed, epsilon, video_dir, report)

    def evaluate(self, episodes: int = 10, seed: int = 0, deterministic: bool | None = None, epsilon: float = 0.0,
                 max_episode_frames: int | None = None, max_steps: int | None = None,
                 video_dir: str | Path | None = None, report: EpisodeReport | None = None) -> dict[str, Any]:
        """Play an evaluation (see :meth:`plan` for the arguments); returns what ``eval.json`` holds.

        Returns are the game's own score (unclipped, unscaled). ``epsilon``
        adds uniformly random actions with that probability. With
        ``video_dir`` the first episode is recorded there as an mp4.
        ``report(number, planned, return, steps, cut_off)`` is called after
        each episode (:func:`asyncrl.eval_episodes.print_episode` prints it).
        """
        plan = self.plan(episodes, deterministic, epsilon, max_episode_frames, max_steps)
        video = Path(video_dir) if video_dir is not None else None
        result = self.play(plan, seed, epsilon, video, report)
        return {
            "checkpoint_step": self.global_step, "episodes": len(result.returns), "planned_episodes": episodes,
            "stopped_early": result.stopped_early, "epsilon": epsilon, "seed": seed,
            "deterministic": plan.deterministic, "policy": plan.policy, "max_episode_frames": plan.max_episode_frames,
            "max_steps": plan.max_steps, "returns": result.returns, "lengths": result.lengths,
            "cut_off": result.truncated, "mean": result.mean,
            "std": statistics.pstdev(result.returns) if result.returns else None,
            "videos": sorted(str(p) for p in video.glob("*.mp4")) if video is not None else [],
        }
