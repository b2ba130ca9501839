"""The main process's record sink: metrics.jsonl, wandb, progress, the solved check, evaluations, checkpoints.

Workers send small records; the runtime hands each to :class:`RunRecorder`,
the only writer of the run directory while a run trains.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import torch

from asyncrl.agent import Agent
from asyncrl.build import RunParts
from asyncrl.checkpoint import FILENAME, checkpoint_payload, save_checkpoint
from asyncrl.config import to_plain
from asyncrl.evaluation import BackgroundEvaluator, EvalResult, print_episode
from asyncrl.metrics import EpisodeStats, JsonlWriter, Progress, Record, WandbSink
from asyncrl.runtime.shared import SharedState

EVAL_SEED = 1_000_003  # evaluation episodes use seeds apart from the workers'


def rate(steps: int, seconds: float) -> float:
    """Steps per second (0 for no time)."""
    return steps / seconds if seconds > 0 else 0.0


def previous_episodes(path: Path, window: int) -> list[float]:
    """The last ``window`` episode returns already in metrics.jsonl (for a resumed run)."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as f:
        returns = [json.loads(line)["episode_return"] for line in f if '"type": "episode"' in line]
    return returns[-window:]


class RunRecorder:
    """The main process's sink: files, wandb, progress, solved check, evaluations, checkpoints."""

    def __init__(self, parts: RunParts, run_dir: Path, shared: SharedState, start_time: float,
                 run_state: dict[str, Any], wandb_sink: WandbSink | None) -> None:
        cfg = parts.config
        self.cfg, self.run_dir, self.shared, self.start_time = cfg, run_dir, shared, start_time
        self.plain_config = to_plain(cfg)  # the resolved config, as checkpoints store it
        self.state = run_state  # what a checkpoint carries over to a resumed run
        self.writer = JsonlWriter(run_dir / "metrics.jsonl")
        self.wandb = wandb_sink
        self.start_step = shared.global_step
        self.progress = Progress(cfg.total_steps, cfg.progress, time_limit_s=cfg.time_limit_s)
        self.episodes = EpisodeStats(cfg.env.solved_window, cfg.env.solved_return)
        self.startup_s: float | None = None  # this invocation's worker start-up (until the first record)
        self.time_limit_reached = False
        self.end_time: float | None = None  # set when the workers have stopped
        self.parts = parts
        self.evaluator = BackgroundEvaluator(cfg.eval.episodes, cfg.seed + EVAL_SEED)
        self.next_eval = self._next_multiple(cfg.eval.interval)
        self.next_checkpoint = self._next_multiple(cfg.checkpoint.interval)
        self.last_progress = time.monotonic()

    def _next_multiple(self, interval: int) -> int | None:
        return None if interval <= 0 else (self.shared.global_step // interval + 1) * interval

    def wall_now(self) -> float:
        """Seconds of training so far, over all sessions of a resumed run."""
        return self.state["wall_s"] + self.session_wall()

    def session_wall(self) -> float:
        """Seconds of this invocation alone (what its ``time_limit_s`` limits)."""
        return (self.end_time or time.time()) - self.start_time

    def write(self, record: Record) -> None:
        """One record to metrics.jsonl and wandb."""
        record.setdefault("wall_s", self.wall_now())
        self.writer.write(record)
        if self.wandb is not None:
            self.wandb.write(record)

    def __call__(self, record: Record) -> bool:
        """Handle one worker record; True when the run should stop (solved)."""
        if self.startup_s is None and "worker" in record:  # the first word from a worker ends start-up
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
            if self.start_evaluation():
                self.next_eval = self._next_multiple(self.cfg.eval.interval)
        if self.next_checkpoint is not None and step >= self.next_checkpoint:
            self.save_checkpoint()
            self.next_checkpoint = self._next_multiple(self.cfg.checkpoint.interval)
        now = time.monotonic()
        if now - self.last_progress >= self.cfg.runtime.report_interval_s:
            steps_per_s = rate(step - self.start_step, time.time() - self.start_time)
            self.write({"type": "progress", "global_step": step, "time/steps_per_s": steps_per_s,
                        "rollout/return_mean": self.episodes.mean})
            self.last_progress = now

    def start_evaluation(self) -> bool:
        """Evaluate a snapshot of the shared network in the background; False if one is still running."""
        if self.evaluator.busy:
            return False
        # A private copy: workers keep updating the shared one.
        snapshot = Agent(self.parts, copy.deepcopy(self.shared.model), self.shared.global_step,
                         self.cfg.seed + EVAL_SEED)
        return self.evaluator.start(snapshot)

    def final_evaluation(self) -> None:
        """The end-of-run evaluation; unless ``progress=off`` it says what it plays and prints each episode."""
        if self.cfg.progress != "off":
            self.evaluator.report = print_episode
        self.start_evaluation()
        self.collect_evaluation(self.evaluator.wait())

    def collect_evaluation(self, finished: tuple[int, EvalResult] | None) -> None:
        """Record a finished evaluation (eval/* keys) and keep the best mean."""
        if finished is None:
            return
        step, result = finished
        std = float(torch.tensor(result.returns).std(unbiased=False)) if result.returns else None
        self.write({"type": "eval", "global_step": step, "eval/return_mean": result.mean, "eval/return_std": std,
                    "eval/returns": result.returns, "eval/lengths": result.lengths, "eval/cut_off": result.truncated,
                    "eval/planned_episodes": result.planned, "eval/stopped_early": result.stopped_early})
        self.state["last_eval_return"] = result.mean
        best = self.state["best_eval_return"]
        if result.mean is not None and (best is None or result.mean > best):
            self.state["best_eval_return"] = result.mean

    def startup_total(self) -> float:
        """Seconds of worker start-up over all sessions of a resumed run."""
        return self.state.get("startup_s", 0.0) + (self.startup_s or 0.0)

    def save_checkpoint(self) -> None:
        """Snapshot the shared state now (workers keep running: a Hogwild snapshot)."""
        state = {**self.state, "wall_s": self.wall_now(), "startup_s": self.startup_total()}
        save_checkpoint(self.run_dir / FILENAME, checkpoint_payload(self.shared, self.plain_config, state))

    def close(self) -> None:
        self.progress.close()


def new_run_state() -> dict[str, Any]:
    """The bookkeeping a checkpoint carries over to a resumed run, for a new run."""
    return {"episodes": 0, "wall_s": 0.0, "startup_s": 0.0, "best_eval_return": None, "last_eval_return": None,
            "solved_at": None, "resumes": 0, "skipped_updates": 0}


