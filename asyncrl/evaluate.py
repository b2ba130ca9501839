"""Evaluate a saved agent: ``python -m asyncrl.evaluate RUN_DIR [key=value ...]``.

Plays whole episodes with the greedy policy of the run's ``checkpoint.pt``
(or epsilon-greedy with ``epsilon=0.05``, say), writes ``eval.json`` (returns,
lengths, mean, std) into the run directory and, with ``video=true``, an mp4
of the first episode (gymnasium's RecordVideo) into ``RUN_DIR/videos``.
Training uses :func:`evaluate_greedy` for its final score.

Keys: episodes (10), epsilon (0.0), video (false), seed (0),
max_episode_steps (100000).
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException
from torch import nn

from asyncrl.checkpoint import CheckpointError, load_checkpoint
from asyncrl.envs import make_env
from asyncrl.learners.policies import policy_for


@dataclass
class EvalResult:
    """Returns and lengths of the evaluation episodes."""

    returns: list[float]
    lengths: list[int]

    @property
    def mean(self) -> float | None:
        return sum(self.returns) / len(self.returns) if self.returns else None


class GreedyPolicy:
    """The greedy action: the argmax of policy logits or Q-values, or a Gaussian's clipped mean.

    Carries the LSTM state of a recurrent model through an episode.
    """

    def __init__(self, model: nn.Module, action_space: gym.Space | None = None) -> None:
        self.model = model
        self.recurrent = getattr(model, "recurrent", False)
        self.gaussian = isinstance(action_space, gym.spaces.Box)
        self.policy = policy_for(action_space) if self.gaussian else None
        self.reset()

    def reset(self) -> None:
        """Start of an episode."""
        self.state = self.model.initial_state() if self.recurrent else None

    def __call__(self, obs: torch.Tensor) -> int | np.ndarray:
        if self.recurrent:
            scores, _, self.state = self.model.step(obs.unsqueeze(0), self.state)
        else:
            out = self.model(obs.unsqueeze(0))
            scores = out[0] if isinstance(out, tuple) else out
        if self.policy is not None:
            return self.policy.greedy(scores)[0]
        return int(scores[0].argmax())


@torch.no_grad()
def evaluate_greedy(model: nn.Module, env_cfg: Any, episodes: int, seed: int, max_steps: int,
                    epsilon: float = 0.0, video_dir: Path | None = None) -> EvalResult:
    """Play ``episodes`` whole episodes greedily; returns are the game's own score.

    With ``epsilon`` > 0 a uniformly random action (for a Box: uniform within
    its bounds) replaces the greedy one with that probability (a recurrent policy still sees every observation).
    With ``video_dir`` the first episode is recorded there as an mp4.
    """
    if video_dir is not None:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # classic-control renders off-screen
    env = make_env(env_cfg, render_mode="rgb_array" if video_dir is not None else None)
    if video_dir is not None:
        env = gym.wrappers.RecordVideo(env, str(video_dir), episode_trigger=lambda e: e == 0, name_prefix="eval",
                                       disable_logger=True)
    policy = GreedyPolicy(model, env.action_space)
    rng = np.random.default_rng(seed)
    env.action_space.seed(seed)
    result = EvalResult([], [])
    try:
        for episode in range(episodes):
            obs, _ = env.reset(seed=seed + episode)
            policy.reset()
            total, steps, done = 0.0, 0, False
            while not done and steps < max_steps:
                action = policy(torch.as_tensor(obs))
                if epsilon > 0 and rng.random() < epsilon:
                    discrete = isinstance(env.action_space, gym.spaces.Discrete)
                    action = int(rng.integers(env.action_space.n)) if discrete else env.action_space.sample()
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

    def __init__(self, env_cfg: Any, episodes: int, max_steps: int, seed: int) -> None:
        self.env_cfg, self.episodes, self.max_steps, self.seed = env_cfg, episodes, max_steps, seed
        self.thread: threading.Thread | None = None
        self.result: tuple[int, EvalResult] | None = None
        self.error: BaseException | None = None

    @property
    def busy(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, model: nn.Module, global_step: int) -> bool:
        """Evaluate a copy of ``model`` as of now; False if one is still running."""
        if self.busy:
            return False
        snapshot = copy.deepcopy(model)  # a private copy: workers keep updating the shared one
        self.thread = threading.Thread(target=self._run, args=(snapshot, global_step), daemon=True,
                                       name="asyncrl-eval")
        self.thread.start()
        return True

    def _run(self, model: nn.Module, global_step: int) -> None:
        try:
            self.result = (global_step, evaluate_greedy(model, self.env_cfg, self.episodes, self.seed,
                                                        self.max_steps))
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


@dataclass
class EvaluateArgs:
    """The ``key=value`` arguments of the evaluation command."""

    episodes: int = 10
    epsilon: float = 0.0
    video: bool = False
    seed: int = 0
    max_episode_steps: int = 100_000


def load_agent(run_dir: Path) -> tuple[nn.Module, Any, int]:
    """The network saved in ``run_dir/checkpoint.pt``, its run config and global step."""
    from asyncrl.learners import LEARNERS
    from asyncrl.nets import build_model

    ckpt = load_checkpoint(run_dir / "checkpoint.pt")
    cfg = OmegaConf.create(ckpt["config"])
    env = make_env(cfg.env)
    try:
        model = build_model(LEARNERS[cfg.algo.name].head, env.observation_space, env.action_space, cfg.model)
    finally:
        env.close()
    model.load_state_dict(ckpt["model"])
    return model.eval(), cfg, int(ckpt["global_step"])


def parse_args(argv: list[str]) -> tuple[Path, EvaluateArgs]:
    """``RUN_DIR key=value ...``; raises ValueError with one line on bad input."""
    if not argv or "=" in argv[0]:
        raise ValueError("usage: python -m asyncrl.evaluate RUN_DIR [episodes=N] [epsilon=E] [video=true] "
                         "[seed=S] [max_episode_steps=M]")
    try:
        merged = OmegaConf.merge(OmegaConf.structured(EvaluateArgs), OmegaConf.from_dotlist(argv[1:]))
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None)
        raise ValueError(f"{key}: {str(exc).splitlines()[0]}" if key else str(exc).splitlines()[0]) from None
    args: EvaluateArgs = OmegaConf.to_object(merged)  # type: ignore[assignment]
    if args.episodes < 1:
        raise ValueError(f"episodes={args.episodes}: must be >= 1")
    if not 0.0 <= args.epsilon <= 1.0:
        raise ValueError(f"epsilon={args.epsilon}: must be in [0, 1]")
    return Path(argv[0]), args


def main(argv: list[str] | None = None) -> int:
    """Evaluate a run directory's checkpoint; write eval.json (and a video)."""
    try:
        run_dir, args = parse_args(sys.argv[1:] if argv is None else argv)
        model, cfg, step = load_agent(run_dir)
    except (ValueError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    video_dir = run_dir / "videos" if args.video else None
    result = evaluate_greedy(model, cfg.env, args.episodes, args.seed, args.max_episode_steps, args.epsilon,
                             video_dir)
    report = {
        "checkpoint_step": step, "episodes": args.episodes, "epsilon": args.epsilon, "seed": args.seed,
        "returns": result.returns, "lengths": result.lengths, "mean": result.mean,
        "std": statistics.pstdev(result.returns),
        "videos": sorted(str(p) for p in video_dir.glob("*.mp4")) if video_dir else [],
    }
    (run_dir / "eval.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"mean return {result.mean:.1f} +- {report['std']:.1f} over {args.episodes} episodes; "
          f"wrote {run_dir / 'eval.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
