"""``summary.json``: what a run did, written by the main process when it ends (any way it ends)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asyncrl.build import RunParts
from asyncrl.config import to_plain
from asyncrl.envs import env_id
from asyncrl.metrics import rate
from asyncrl.run_state import RunState
from asyncrl.runtime.shared import SharedState


@dataclass(frozen=True)
class SessionFigures:
    """The clock's figures at the end of a session (the recorder's), for the summary."""

    wall_s: float  # seconds of training over all sessions
    startup_s: float  # seconds of worker start-up over all sessions
    start_step: int  # the global step this session started from
    session_wall_s: float  # this session alone (what its time_limit_s limits)
    recent_mean_return: float | None  # the mean of the last env.solved_window episodes
    time_limit_reached: bool


def build_summary(parts: RunParts, shared: SharedState, state: RunState, figures: SessionFigures, status: str,
                  error: str | None) -> dict[str, Any]:
    """The summary of a run that ended with ``status``.

    Every figure covers the whole run, all sessions of a resumed one
    together: steps, wall time, start-up and both rates.
    """
    cfg, steps, wall = parts.config, shared.global_step, figures.wall_s
    solved_at = state.solved_at
    final_eval = state.last_eval_return if status in ("finished", "solved") else None
    return {
        "algo": cfg.algo.name, "env": env_id(cfg.env), "optim": cfg.optim.name,
        "shared_stats": cfg.optim.shared_stats, "runtime": cfg.runtime.kind,
        "workers": cfg.workers, "seed": cfg.seed,
        "global_steps": steps,
        "frames": steps * cfg.env.frames_per_step,
        "wall_s": wall,
        "steps_per_s": rate(steps, wall),
        # Excluding worker start-up (spawn, imports, env creation): the running rate.
        "startup_s": figures.startup_s,
        "steps_per_s_running": rate(steps, wall - figures.startup_s),
        "episodes": state.episodes,
        "recent_mean_return": figures.recent_mean_return,
        "solved_at_step": solved_at["global_step"] if solved_at else None,
        "solved_wall_s": solved_at["wall_s"] if solved_at else None,
        "final_eval_return": final_eval,
        # What a sweeper optimizes (a job's return value): the final evaluation's mean, or with evaluation
        # off the mean of the last env.solved_window training episodes; none for a failed run.
        "score": None if status == "failed" else final_eval if final_eval is not None else figures.recent_mean_return,
        "best_eval_return": state.best_eval_return,
        "target_syncs": shared.target_sync_count if shared.target is not None else None,
        "resumes": state.resumes,
        # This invocation alone: a resumed run's figures above add up all its sessions.
        "session_steps": steps - figures.start_step,
        "session_wall_s": figures.session_wall_s,
        "skipped_updates": state.skipped_updates,  # non-finite loss or gradient
        "status": status,
        "finished": status in ("finished", "solved"),
        "time_limit_reached": figures.time_limit_reached,
        "error": error,
        "config": to_plain(cfg),  # resolved: sampled values (e.g. ${loguniform:...}) as the run used them
    }


def write_summary(run_dir: Path, summary: dict[str, Any]) -> None:
    """``run_dir/summary.json``."""
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
