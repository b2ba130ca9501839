"""Build the pieces a config names, run the workers, write the run directory.

Run directory contents (the contract in ARCHITECTURE.md): ``metrics.jsonl``
(every record, appended as it arrives), ``summary.json`` (at the end, also
after Ctrl-C or a failed worker) and ``checkpoint.pt`` (unless a worker failed).
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from asyncrl.checkpoint import save_checkpoint
from asyncrl.config import to_plain, validate
from asyncrl.envs import check_env_config, env_id
from asyncrl.evaluate import evaluate_greedy
from asyncrl.learners import LEARNERS
from asyncrl.metrics import EpisodeStats, JsonlWriter, Progress, Record
from asyncrl.nets import build_model
from asyncrl.optim import create_shared_state
from asyncrl.runtime.runner import Runner, WorkerError
from asyncrl.runtime.shared import SharedState, share_model


def build_shared_state(cfg: DictConfig) -> SharedState:
    """Validate the config and create everything workers share, before any starts."""
    validate(cfg)
    obs_space, action_space = check_env_config(cfg.env)
    learner_cls = LEARNERS[cfg.algo.name]
    learner_cls.check_action_space(action_space)
    torch.manual_seed(cfg.seed)
    model = share_model(build_model(learner_cls.head, obs_space, action_space, cfg.model))
    target = share_model(copy.deepcopy(model)) if learner_cls.uses_target_net else None
    optim_state = create_shared_state(cfg.optim, list(model.parameters()))
    return SharedState(model, target, optim_state, cfg.algo.get("target_interval"))


class RunRecorder:
    """The main process's sink: metrics file, progress, solved detection."""

    def __init__(self, cfg: DictConfig, run_dir: Path, shared: SharedState, start_time: float) -> None:
        self.cfg, self.shared, self.start_time = cfg, shared, start_time
        self.writer = JsonlWriter(run_dir / "metrics.jsonl")
        self.progress = Progress(cfg.total_steps, cfg.progress)
        self.episodes = EpisodeStats(cfg.env.solved_window, cfg.env.solved_return)
        self.solved_at: dict[str, float] | None = None
        self.startup_s: float | None = None  # until the first worker reported in

    def __call__(self, record: Record) -> bool:
        record.setdefault("wall_s", time.time() - self.start_time)
        if self.startup_s is None:
            self.startup_s = record["wall_s"]
        self.writer.write(record)
        if record["type"] == "episode":
            self.episodes.add(record["episode_return"])
            if self.solved_at is None and self.episodes.solved:
                self.solved_at = {"global_step": record["global_step"], "wall_s": record["wall_s"]}
            self.progress.update(self.shared.global_step, self.episodes.mean)
        return bool(self.cfg.stop_when_solved and self.solved_at is not None)


def _rate(steps: int, seconds: float) -> float:
    return steps / seconds if seconds > 0 else 0.0


def train(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Train one run into ``run_dir``; return the summary (raise WorkerError on failure)."""
    shared = build_shared_state(cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    start = time.time()
    recorder = RunRecorder(cfg, run_dir, shared, start)
    try:
        result = Runner(to_plain(cfg), shared, recorder, start).run()
    finally:
        recorder.progress.close()
    train_wall = time.time() - start
    # "solved": stopped early because it was; solved_at_step is recorded either way.
    stopped_early = cfg.stop_when_solved and recorder.solved_at is not None
    status = "solved" if result.status == "finished" and stopped_early else result.status

    evaluation = None
    if status in ("finished", "solved") and cfg.eval.episodes > 0:
        try:
            evaluation = evaluate_greedy(shared.model, cfg.env, cfg.eval.episodes, cfg.seed + 1_000_003,
                                         cfg.eval.max_episode_steps)
            recorder({"type": "eval", "global_step": shared.global_step, "return_mean": evaluation.mean,
                       "returns": evaluation.returns, "lengths": evaluation.lengths})
        except KeyboardInterrupt:
            status = "interrupted"
    if status != "failed":
        save_checkpoint(run_dir / "checkpoint.pt", {
            "model": shared.model.state_dict(),
            "target": shared.target.state_dict() if shared.target is not None else None,
            "optim_state": shared.optim_state,
            "global_step": shared.global_step,
            "config": to_plain(cfg),
        })
    summary = {
        "algo": cfg.algo.name, "env": env_id(cfg.env), "optim": cfg.optim.name,
        "shared_stats": cfg.optim.shared_stats, "runtime": cfg.runtime.kind,
        "workers": cfg.workers, "seed": cfg.seed,
        "global_steps": shared.global_step,
        "frames": shared.global_step * int(cfg.env.get("frame_skip", 1)),
        "wall_s": train_wall,
        "steps_per_s": _rate(shared.global_step, train_wall),
        # Excluding worker start-up (spawn, imports, env creation): the running rate.
        "startup_s": recorder.startup_s,
        "steps_per_s_running": _rate(shared.global_step, train_wall - (recorder.startup_s or 0.0)),
        "episodes": recorder.episodes.episodes,
        "recent_mean_return": recorder.episodes.mean,
        "solved_at_step": recorder.solved_at["global_step"] if recorder.solved_at else None,
        "solved_wall_s": recorder.solved_at["wall_s"] if recorder.solved_at else None,
        "final_eval_return": evaluation.mean if evaluation else None,
        "best_eval_return": evaluation.mean if evaluation else None,
        "target_syncs": int(shared.target_syncs.value) if shared.target is not None else None,
        "status": status,
        "finished": status in ("finished", "solved"),
        "error": result.error,
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    recorder.writer.close()
    if status == "failed":
        raise WorkerError(result.error or "a worker failed")
    return summary
