"""The owner of a run in the main process: its records, evaluations, checkpoints, state and ending.

Workers send small records; the runtime hands each to :class:`RunRecorder`,
the only writer of the run directory from the first record to the summary:
metrics.jsonl, the trackers (wandb, TensorBoard), progress, the solved check, evaluations, checkpoints,
the :class:`~asyncrl.run_state.RunState`, and :meth:`RunRecorder.finish`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

from asyncrl.agent import Agent
from asyncrl.build import RunParts
from asyncrl.checkpoint import FILENAME, checkpoint_payload, save_checkpoint
from asyncrl.config import to_plain
from asyncrl.eval_episodes import BackgroundEvaluator, EvalResult, print_episode
from asyncrl.metrics import EpisodeStats, JsonlWriter, Progress, Record, rate
from asyncrl.run_state import RunState
from asyncrl.runtime.runner import RunResult, WorkerError
from asyncrl.runtime.shared import SharedState
from asyncrl.summary import SessionFigures, build_summary, write_summary
from asyncrl.trackers import open_trackers

EVAL_SEED = 1_000_003  # evaluation episodes use seeds apart from the workers'


def previous_episodes(path: Path, window: int) -> list[float]:
    """The last ``window`` episode returns already in metrics.jsonl (for a resumed run)."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as f:
        returns = [json.loads(line)["episode_return"] for line in f if '"type": "episode"' in line]
    return returns[-window:]


class RunRecorder:
    """The main process's owner of a run: files, trackers, progress, solved check, evaluations, checkpoints, end.

    Created as the run starts (its clock starts here); ``parts`` is then the
    run's parts with this session's deadline set.
    """

    def __init__(self, parts: RunParts, run_dir: Path, shared: SharedState, state: RunState,
                 wandb_group: str | None = None) -> None:
        cfg = parts.config
        run_dir.mkdir(parents=True, exist_ok=True)
        self.trackers = open_trackers(cfg, run_dir, run_dir.name, wandb_group)
        self.start_time = time.time()
        if cfg.time_limit_s > 0:  # the workers' lr schedule reads it (optim.anneal_over=budget)
            parts = dataclasses.replace(parts, deadline=self.start_time + cfg.time_limit_s)
        self.parts, self.cfg, self.run_dir, self.shared, self.state = parts, cfg, run_dir, shared, state
        # Workers stamp wall_s from this origin: a resumed run's clock continues.
        self.origin = self.start_time - state.wall_s
        self.plain_config = to_plain(cfg)  # the resolved config, as checkpoints store it
        self.writer = JsonlWriter(run_dir / "metrics.jsonl")
        self.start_step = shared.global_step
        self.progress = Progress(cfg.total_steps, cfg.progress, time_limit_s=cfg.time_limit_s)
        self.episodes = EpisodeStats(cfg.env.solved_window, cfg.env.solved_return)
        self.startup_s: float | None = None  # this invocation's worker start-up (until the first record)
        self.time_limit_reached = False
        self.end_time: float | None = None  # set when the workers have stopped
        self.evaluator = BackgroundEvaluator(cfg.eval.episodes, cfg.seed + EVAL_SEED)
        self.next_eval = self._next_multiple(cfg.eval.interval)
        self.next_checkpoint = self._next_multiple(cfg.checkpoint.interval)
        self.last_progress = time.monotonic()
        if state.resumes > 0:
            self.write({"type": "resume", "global_step": shared.global_step, "resumes": state.resumes})
            # The recent-return window (solved criterion, progress) continues from the earlier sessions.
            self.episodes.recent.extend(previous_episodes(run_dir / "metrics.jsonl", cfg.env.solved_window))

    def _next_multiple(self, interval: int) -> int | None:
        return None if interval <= 0 else (self.shared.global_step // interval + 1) * interval

    def wall_now(self) -> float:
        """Seconds of training so far, over all sessions of a resumed run."""
        return self.state.wall_s + self.session_wall()

    def session_wall(self) -> float:
        """Seconds of this invocation alone (what its ``time_limit_s`` limits)."""
        return (self.end_time or time.time()) - self.start_time

    def write(self, record: Record) -> None:
        """One record to metrics.jsonl and the trackers."""
        record.setdefault("wall_s", self.wall_now())
        self.writer.write(record)
        for tracker in self.trackers:
            tracker.write(record)

    def __call__(self, record: Record) -> bool:
        """Handle one worker record; True when the run should stop (solved)."""
        if self.startup_s is None and "worker" in record:  # the first word from a worker ends start-up
            self.startup_s = time.time() - self.start_time
        self.write(record)
        step = self.shared.global_step
        if record["type"] == "skipped_update":
            self.state.skipped_updates += 1
        if record["type"] == "episode":
            self.episodes.add(record["episode_return"])
            self.state.episodes += 1
            if self.state.solved_at is None and self.episodes.solved:
                self.state.solved_at = {"global_step": record["global_step"], "wall_s": record["wall_s"]}
        self._periodic(step)
        self.progress.update(step, self.episodes.mean, self.state.last_eval_return, self.start_step)
        return bool(self.cfg.stop_when_solved and self.state.solved_at is not None) or self.out_of_time()

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
        self.state.last_eval_return = result.mean
        best = self.state.best_eval_return
        if result.mean is not None and (best is None or result.mean > best):
            self.state.best_eval_return = result.mean

    def startup_total(self) -> float:
        """Seconds of worker start-up over all sessions of a resumed run."""
        return self.state.startup_s + (self.startup_s or 0.0)

    def save_checkpoint(self) -> None:
        """Snapshot the shared state now (workers keep running: a Hogwild snapshot)."""
        state = dataclasses.replace(self.state, wall_s=self.wall_now(), startup_s=self.startup_total())
        save_checkpoint(self.run_dir / FILENAME, checkpoint_payload(self.shared, self.plain_config, state.to_dict()))

    def close_progress(self) -> None:
        """The workers have stopped: the progress display ends and the clock stops."""
        self.progress.close()
        self.end_time = time.time()

    def finish(self, result: RunResult) -> dict[str, Any]:
        """End the run however the workers' part ended: evaluate, checkpoint, summarise, close; the summary.

        A run that finished (or stopped because it was solved) gets its final
        evaluation; every run but a failed one gets its checkpoint; every run
        gets summary.json. Raises WorkerError for a failed run, after writing
        what it could.
        """
        status = result.status
        if status == "finished" and self.cfg.stop_when_solved and self.state.solved_at is not None:
            status = "solved"  # stopped early because it was; solved_at_step is recorded either way
        try:
            if status != "interrupted":  # after Ctrl-C, do not wait for a periodic evaluation
                self.collect_evaluation(self.evaluator.wait())
            if status in ("finished", "solved") and self.cfg.eval.episodes > 0:
                self.final_evaluation()
        except KeyboardInterrupt:
            status = "interrupted"
        except OSError:
            if status != "failed":
                raise
        if status != "failed":
            self.save_checkpoint()
        summary = build_summary(self.parts, self.shared, self.state, self._figures(), status, result.error)
        try:
            write_summary(self.run_dir, summary)
            self.writer.close()
        except OSError as exc:
            if status != "failed":
                raise
            print(f"warning: could not finish writing {self.run_dir}: {exc}", file=sys.stderr)
        for tracker in self.trackers:
            tracker.close(summary)
        if status == "failed":
            raise WorkerError(result.error or "a worker failed")
        return summary

    def _figures(self) -> SessionFigures:
        return SessionFigures(wall_s=self.wall_now(), startup_s=self.startup_total(), start_step=self.start_step,
                              session_wall_s=self.session_wall(), recent_mean_return=self.episodes.mean,
                              time_limit_reached=self.time_limit_reached)


