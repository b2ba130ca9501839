"""Evaluate a saved agent: ``python -m asyncrl.evaluate RUN_DIR [key=value ...]``.

Plays episodes with the run's ``checkpoint.pt`` under the same rules as the
training's own evaluation (the run's ``eval`` settings): the algorithm's
evaluation policy (A3C samples from its policy; the value-based agents act
epsilon-greedily with epsilon 0.05), each episode bounded in game time, and
no new episode once as many agent steps have been played as the agent
trained. Prints each episode as it ends, writes ``eval.json`` (returns,
lengths, mean, std) into the run directory and, with ``video=true``, an mp4
of the first episode (gymnasium's RecordVideo) into ``RUN_DIR/videos``: what
:meth:`asyncrl.Agent.evaluate` returns.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from asyncrl.agent import Agent
from asyncrl.checkpoint import CheckpointError
from asyncrl.config import ConfigError, EvalConfig
from asyncrl.eval_episodes import print_episode
from asyncrl.registry import report_plugin_problems


@dataclass
class EvaluateArgs:
    """The ``key=value`` arguments of the evaluation command (None: the run's own ``eval`` setting)."""

    episodes: int = 10
    epsilon: float = 0.0
    deterministic: bool | None = None
    video: bool = False
    seed: int = 0
    max_episode_frames: int | None = None
    max_steps: int | None = None


USAGE = ("usage: python -m asyncrl.evaluate RUN_DIR [episodes=N] [deterministic=true] [epsilon=E] [video=true] "
         "[seed=S] [max_episode_frames=F] [max_steps=M]")

HELP = f"""{USAGE}

Plays episodes with the agent saved in RUN_DIR/checkpoint.pt (a run directory
of `python -m asyncrl` or `asyncrl.train`), printing each as it ends; writes
RUN_DIR/eval.json (returns, lengths, mean, std) and, with video=true, an mp4
of the first episode into RUN_DIR/videos. Unset keys take the run's eval.* settings.

  episodes=N             episodes to play (default 10)
  deterministic=true     greedy actions; by default the algorithm's evaluation policy:
                         A3C samples from its policy, the value-based methods act
                         epsilon-greedily with epsilon 0.05
  epsilon=E              also replace the agent's action by a uniformly random one
                         with probability E (default 0)
  video=true             record the first episode (default false)
  seed=S                 episode i starts from env.reset(seed=S+i) (default 0)
  max_episode_frames=F   an episode ends after F frames of game time (default: the
                         run's eval.max_episode_frames, {EvalConfig.max_episode_frames:,} = 5 minutes on Atari)
  max_steps=M            no new episode after M agent steps in all (default: as many
                         as the agent trained, at least one episode)
"""


def parse_args(argv: list[str]) -> tuple[Path, EvaluateArgs]:
    """``RUN_DIR key=value ...``; raises ValueError with one line on bad input."""
    if not argv or "=" in argv[0]:
        raise ValueError(USAGE)
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
    for key in ("max_episode_frames", "max_steps"):
        if getattr(args, key) is not None and getattr(args, key) < 1:
            raise ValueError(f"{key}={getattr(args, key)}: must be >= 1")
    return Path(argv[0]), args


def main(argv: list[str] | None = None) -> int:
    """Evaluate a run directory's checkpoint; write eval.json (and a video)."""
    argv = sys.argv[1:] if argv is None else argv
    report_plugin_problems()
    if argv and argv[0] in ("-h", "--help"):
        print(HELP)
        return 0
    try:
        run_dir, args = parse_args(argv)
        agent = Agent.load(run_dir)
    except (ValueError, CheckpointError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    video_dir = run_dir / "videos" if args.video else None
    plan = agent.plan(args.episodes, args.deterministic, args.epsilon, args.max_episode_frames, args.max_steps)
    print(f"evaluating {run_dir} (trained {agent.global_step:,} steps): {plan.describe()}", flush=True)
    report = agent.evaluate(args.episodes, args.seed, args.deterministic, args.epsilon, args.max_episode_frames,
                            args.max_steps, video_dir, report=print_episode)
    (run_dir / "eval.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    early = (f" (stopped after {report['episodes']} of {args.episodes}: the step budget of the evaluation ran out)"
             if report["stopped_early"] else "")
    print(f"mean return {report['mean']:.1f} +- {report['std']:.1f} over {report['episodes']} episodes{early}; "
          f"wrote {run_dir / 'eval.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
