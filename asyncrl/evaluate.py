"""Evaluate a saved agent: ``python -m asyncrl.evaluate RUN_DIR [key=value ...]``.

Plays whole episodes with the greedy policy of the run's ``checkpoint.pt``
(or epsilon-greedy with ``epsilon=0.05``, say), writes ``eval.json`` (returns,
lengths, mean, std) into the run directory and, with ``video=true``, an mp4
of the first episode (gymnasium's RecordVideo) into ``RUN_DIR/videos``: what
:meth:`asyncrl.Agent.evaluate` returns.

Keys: episodes (10), epsilon (0.0), video (false), seed (0),
max_episode_steps (100000).
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
from asyncrl.config import ConfigError
from asyncrl.evaluation import DEFAULT_MAX_EPISODE_STEPS


@dataclass
class EvaluateArgs:
    """The ``key=value`` arguments of the evaluation command."""

    episodes: int = 10
    epsilon: float = 0.0
    video: bool = False
    seed: int = 0
    max_episode_steps: int = DEFAULT_MAX_EPISODE_STEPS


USAGE = ("usage: python -m asyncrl.evaluate RUN_DIR [episodes=N] [epsilon=E] [video=true] [seed=S] "
         "[max_episode_steps=M]")

HELP = f"""{USAGE}

Plays whole episodes with the greedy policy saved in RUN_DIR/checkpoint.pt (a
run directory of `python -m asyncrl` or `asyncrl.train`), writes RUN_DIR/eval.json
(returns, lengths, mean, std) and, with video=true, an mp4 of the first episode
into RUN_DIR/videos.

  episodes=N            episodes to play (default 10)
  epsilon=E             probability of a uniformly random action instead of the agent's (default 0)
  video=true            record the first episode (default false)
  seed=S                episode i starts from env.reset(seed=S+i) (default 0)
  max_episode_steps=M   an episode is cut off after M agent steps (default {DEFAULT_MAX_EPISODE_STEPS:,})
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
    return Path(argv[0]), args


def main(argv: list[str] | None = None) -> int:
    """Evaluate a run directory's checkpoint; write eval.json (and a video)."""
    argv = sys.argv[1:] if argv is None else argv
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
    report = agent.evaluate(args.episodes, args.seed, epsilon=args.epsilon, max_episode_steps=args.max_episode_steps,
                            video_dir=video_dir)
    (run_dir / "eval.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"mean return {report['mean']:.1f} +- {report['std']:.1f} over {args.episodes} episodes; "
          f"wrote {run_dir / 'eval.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
