"""Build the pieces a config names, run the workers, write the run directory.

Run directory contents (the contract in ARCHITECTURE.md): ``metrics.jsonl``
(every record, appended as it arrives, also across resumes), ``summary.json``
(at the end, also after Ctrl-C or a failed worker), ``checkpoint.pt`` (every
``checkpoint.interval`` steps and at the end, unless a worker failed) and,
with ``logger=wandb``, a ``wandb/`` directory.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from asyncrl.checkpoint import FILENAME, checkpoint_payload, restore, save_checkpoint
from asyncrl.config import to_plain, validate
from asyncrl.envs import check_env_config, env_id
from asyncrl.evaluate import BackgroundEvaluator, EvalResult
from asyncrl.learners import LEARNERS
from asyncrl.metrics import EpisodeStats, JsonlWriter, Progress, Record, WandbSink
from asyncrl.nets import build_model
from asyncrl.optim import create_shared_state
from asyncrl.runtime.runner import Runner, WorkerError
from asyncrl.runtime.shared import SharedState, share_model

EVAL_SEED = 1_000_003  # evaluation episodes use seeds apart from the workers'


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


def _rate(steps: int, seconds: float) -> float:
    return steps / seconds if seconds > 0 else 0.0


def _previous_episodes(path: Path, window: int) -> list[float]:
    """The last ``window`` episode returns already in metrics.jsonl (for a resumed run)."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as f:
        returns = [json.loads(line)["episode_return"] for line in f if '"type": "episode"' in line]
    return returns[-window:]


class RunRecorder:
    """The main process's sink: files, wandb, progress, solved check, evaluations, checkpoints."""

    def __init__(self, cfg: DictConfig, run_dir: Path, shared: SharedState, start_time: float,
                 run_state: dict[str, Any], wandb_sink: WandbSink | None, plain_config: dict[str, Any]) -> None:
        self.cfg, self.run_dir, self.shared, self.start_time = cfg, run_dir, shared, start_time
        self.plain_config = plain_config  # the resolved config, as checkpoints store it
        self.state = run_state  # what a checkpoint carries over to a resumed run
        self.writer = JsonlWriter(run_dir / "metrics.jsonl")
        self.wandb = wandb_sink
        self.start_step = shared.global_step
        self.progress = Progress(cfg.total_steps, cfg.progress)
        self.episodes = EpisodeStats(cfg.env.solved_window, cfg.env.solved_return)
        self.startup_s: float | None = None
        self.time_limit_reached = False
        self.end_time: float | None = None  # set when the workers have stopped
        self.evaluator = BackgroundEvaluator(cfg.env, cfg.eval.episodes, cfg.eval.max_episode_steps,
                                             cfg.seed + EVAL_SEED)
        self.next_eval = self._next_multiple(cfg.eval.interval)
        self.next_checkpoint = self._next_multiple(cfg.checkpoint.interval)
        self.last_progress = time.monotonic()

    def _next_multiple(self, interval: int) -> int | None:
        return None if interval <= 0 else (self.shared.global_step // interval + 1) * interval

    def wall_now(self) -> float:
        """Seconds of training so far, over all sessions of a resumed run."""
        return self.state["wall_s"] + (self.end_time or time.time()) - self.start_time

    def write(self, record: Record) -> None:
        """One record to metrics.jsonl and wandb."""
        record.setdefault("wall_s", self.wall_now())
        self.writer.write(record)
        if self.wandb is not None:
            self.wandb.write(record)

    def __call__(self, record: Record) -> bool:
        """Handle one worker record; True when the run should stop (solved)."""
        if self.startup_s is None:
            self.startup_s = time.time() - self.start_time
        self.write(record)
        step = self.shared.global_step
        if record["type"] == "skipped_update":
            self.state["skipped_updates"] += 1
        if record["type"] == "episode":
            self.episodes.add(record["episode_return"])
            self.state["episodes"] += 1
            if self.state["solved_at"] is None and self.episodes.solved:
                self.state["solved_at"] = {"global_step": record["global_step"], "wall_s": record["wall_s"]}
        self._periodic(step)
        self.progress.update(step, self.episodes.mean, self.state["last_eval_return"], self.start_step)
        return bool(self.cfg.stop_when_solved and self.state["solved_at"] is not None) or self.out_of_time()

    def out_of_time(self) -> bool:
        """True once this invocation has used its ``time_limit_s`` (remembered for the summary)."""
        limit = self.cfg.time_limit_s
        if limit > 0 and time.time() - self.start_time >= limit:
            self.time_limit_reached = True
        return self.time_limit_reached

    def _periodic(self, step: int) -> None:
        """Evaluations, checkpoints and progress records that fall due at ``step``."""
        self.collect_evaluation(self.evaluator.poll())
        if self.next_eval is not None and step >= self.next_eval and self.cfg.eval.episodes > 0:
            if self.evaluator.start(self.shared.model, step):
                self.next_eval = self._next_multiple(self.cfg.eval.interval)
        if self.next_checkpoint is not None and step >= self.next_checkpoint:
            self.save_checkpoint()
            self.next_checkpoint = self._next_multiple(self.cfg.checkpoint.interval)
        now = time.monotonic()
        if now - self.last_progress >= self.cfg.runtime.report_interval_s:
            rate = _rate(step - self.start_step, time.time() - self.start_time)
            self.write({"type": "progress", "global_step": step, "time/steps_per_s": rate,
                        "rollout/return_mean": self.episodes.mean})
            self.last_progress = now

    def collect_evaluation(self, finished: tuple[int, EvalResult] | None) -> None:
        """Record a finished evaluation (eval/* keys) and keep the best mean."""
        if finished is None:
            return
        step, result = finished
        std = float(torch.tensor(result.returns).std(unbiased=False)) if result.returns else None
        self.write({"type": "eval", "global_step": step, "eval/return_mean": result.mean, "eval/return_std": std,
                    "eval/returns": result.returns, "eval/lengths": result.lengths})
        self.state["last_eval_return"] = result.mean
        best = self.state["best_eval_return"]
        if result.mean is not None and (best is None or result.mean > best):
            self.state["best_eval_return"] = result.mean

    def save_checkpoint(self) -> None:
        """Snapshot the shared state now (workers keep running: a Hogwild snapshot)."""
        state = {**self.state, "wall_s": self.wall_now()}
        save_checkpoint(self.run_dir / FILENAME, checkpoint_payload(self.shared, self.plain_config, state))

    def close(self) -> None:
        self.progress.close()


def _new_run_state() -> dict[str, Any]:
    return {"episodes": 0, "wall_s": 0.0, "best_eval_return": None, "last_eval_return": None,
            "solved_at": None, "resumes": 0, "skipped_updates": 0}


def train(cfg: DictConfig, run_dir: Path, ckpt: dict[str, Any] | None = None,
          wandb_group: str | None = None) -> dict[str, Any]:
    """Train one run into ``run_dir`` (continuing ``ckpt`` if given); return the summary.

    Raises WorkerError when a worker failed (after writing the summary).
    """
    shared = build_shared_state(cfg)
    run_state = _new_run_state()
    if ckpt is not None:
        restore(shared, ckpt)
        run_state.update(ckpt.get("run_state", {}))
        run_state["resumes"] += 1
    torch.set_num_threads(1)  # the main process's evaluations must not crowd out the workers
    run_dir.mkdir(parents=True, exist_ok=True)
    plain = to_plain(cfg)
    sink = None
    if cfg.logger == "wandb":
        sink = WandbSink(cfg.wandb, plain, run_dir, run_dir.name, cfg.wandb.group or wandb_group)
    start = time.time()
    recorder = RunRecorder(cfg, run_dir, shared, start, run_state, sink, plain)
    if ckpt is not None:
        recorder.write({"type": "resume", "global_step": shared.global_step, "resumes": run_state["resumes"]})
        # The recent-return window (solved criterion, progress) continues from the earlier part.
        recorder.episodes.recent.extend(_previous_episodes(run_dir / "metrics.jsonl", cfg.env.solved_window))
    try:
        # Workers stamp wall_s from this origin: a resumed run's clock continues.
        origin = start - run_state["wall_s"]
        result = Runner(plain, shared, recorder, origin, generation=run_state["resumes"]).run()
    finally:
        recorder.close()
    recorder.end_time = time.time()
    session_wall = recorder.end_time - start
    status = result.status
    if status == "finished" and cfg.stop_when_solved and run_state["solved_at"] is not None:
        status = "solved"  # stopped early because it was; solved_at_step is recorded either way

    try:
        if status != "interrupted":  # after Ctrl-C, do not wait for a periodic evaluation
            recorder.collect_evaluation(recorder.evaluator.wait())
        if status in ("finished", "solved") and cfg.eval.episodes > 0:
            recorder.evaluator.start(shared.model, shared.global_step)
            recorder.collect_evaluation(recorder.evaluator.wait())
    except KeyboardInterrupt:
        status = "interrupted"
    except OSError:
        if status != "failed":
            raise
    if status != "failed":
        recorder.save_checkpoint()
    running = session_wall - (recorder.startup_s or 0.0)
    solved_at = run_state["solved_at"]
    summary = {
        "algo": cfg.algo.name, "env": env_id(cfg.env), "optim": cfg.optim.name,
        "shared_stats": cfg.optim.shared_stats, "runtime": cfg.runtime.kind,
        "workers": cfg.workers, "seed": cfg.seed,
        "global_steps": shared.global_step,
        "frames": shared.global_step * int(cfg.env.get("frame_skip", 1)),
        "wall_s": recorder.wall_now(),
        "steps_per_s": _rate(shared.global_step - recorder.start_step, session_wall),
        # Excluding worker start-up (spawn, imports, env creation): the running rate.
        "startup_s": recorder.startup_s,
        "steps_per_s_running": _rate(shared.global_step - recorder.start_step, running),
        "episodes": run_state["episodes"],
        "recent_mean_return": recorder.episodes.mean,
        "solved_at_step": solved_at["global_step"] if solved_at else None,
        "solved_wall_s": solved_at["wall_s"] if solved_at else None,
        "final_eval_return": run_state["last_eval_return"] if status in ("finished", "solved") else None,
        "best_eval_return": run_state["best_eval_return"],
        "target_syncs": int(shared.target_syncs.value) if shared.target is not None else None,
        "resumes": run_state["resumes"],
        "skipped_updates": run_state["skipped_updates"],  # non-finite loss or gradient
        "status": status,
        "finished": status in ("finished", "solved"),
        "time_limit_reached": recorder.time_limit_reached,
        "error": result.error,
        "config": plain,  # resolved: sampled values (e.g. ${loguniform:...}) as the run used them
    }
    try:
        (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        recorder.writer.close()
    except OSError as exc:
        if status != "failed":
            raise
        print(f"warning: could not finish writing {run_dir}: {exc}", file=sys.stderr)
    if sink is not None:
        sink.close(summary)
    if status == "failed":
        raise WorkerError(result.error or "a worker failed")
    return summary
