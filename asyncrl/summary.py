"""``summary.json``: what a run did, written by the main process when it ends (any way it ends)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from asyncrl.build import RunParts
from asyncrl.config import to_plain
from asyncrl.envs import env_id
from asyncrl.recorder import RunRecorder, rate


def build_summary(parts: RunParts, recorder: RunRecorder, status: str, error: str | None) -> dict[str, Any]:
    """The summary of a run that ended with ``status``.

    Every figure covers the whole run, all sessions of a resumed one
    together: steps, wall time, start-up and both rates.
    """
    cfg, shared, run_state = parts.config, recorder.shared, recorder.state
    wall, startup = recorder.wall_now(), recorder.startup_total()
    solved_at = run_state["solved_at"]
    return {
        "algo": cfg.algo.name, "env": env_id(cfg.env), "optim": cfg.optim.name,
        "shared_stats": cfg.optim.shared_stats, "runtime": cfg.runtime.kind,
        "workers": cfg.workers, "seed": cfg.seed,
        "global_steps": shared.global_step,
        "frames": shared.global_step * cfg.env.frames_per_step,
        "wall_s": wall,
        "steps_per_s": rate(shared.global_step, wall),
        # Excluding worker start-up (spawn, imports, env creation): the running rate.
        "startup_s": startup,
        "steps_per_s_running": rate(shared.global_step, wall - startup),
        "episodes": run_state["episodes"],
        "recent_mean_return": recorder.episodes.mean,
        "solved_at_step": solved_at["global_step"] if solved_at else None,
        "solved_wall_s": solved_at["wall_s"] if solved_at else None,
        "final_eval_return": run_state["last_eval_return"] if status in ("finished", "solved") else None,
        "best_eval_return": run_state["best_eval_return"],
        "target_syncs": int(shared.target_syncs.value) if shared.target is not None else None,
        "resumes": run_state["resumes"],
        # This invocation alone: a resumed run's figures above add up all its sessions.
        "session_steps": shared.global_step - recorder.start_step,
        "session_wall_s": recorder.session_wall(),
        "skipped_updates": run_state["skipped_updates"],  # non-finite loss or gradient
        "status": status,
        "finished": status in ("finished", "solved"),
        "time_limit_reached": recorder.time_limit_reached,
        "error": error,
        "config": to_plain(cfg),  # resolved: sampled values (e.g. ${loguniform:...}) as the run used them
    }


def write_summary(run_dir: Path, summary: dict[str, Any]) -> None:
    """``run_dir/summary.json``."""
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
