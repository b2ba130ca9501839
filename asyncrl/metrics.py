"""Sinks for the records workers send (main process only).

``metrics.jsonl`` gets every record as one JSON line, flushed at once so a
crash loses nothing already reported. :class:`Progress` shows a live bar on a
terminal and plain periodic lines otherwise (CI, redirected output).
:mod:`asyncrl.trackers` sends the same numbers to Weights & Biases and
TensorBoard.
"""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

from asyncrl.runtime.worker import Record


def rate(steps: int, seconds: float) -> float:
    """Steps per second (0 for no time)."""
    return steps / seconds if seconds > 0 else 0.0


class JsonlWriter:
    """Append records to a JSON-lines file, one flush per record."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: TextIO = path.open("a", encoding="utf-8")

    def write(self, record: Record) -> None:
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def solved_at(returns: Sequence[float], window: int, threshold: float) -> int | None:
    """Index of the first episode where the mean return of the last ``window`` episodes reaches ``threshold``.

    The solved criterion (``env.solved_window``, ``env.solved_return``): only
    a full window counts, so the answer is never below ``window - 1``. None
    when no window reaches it. The run's own check and the benchmark scripts
    both use this, so a run's ``solved_at_step`` and a script's recomputation
    from metrics.jsonl agree to the last bit.
    """
    if len(returns) < window:
        return None
    means = np.lib.stride_tricks.sliding_window_view(np.asarray(returns, dtype=np.float64), window).mean(axis=1)
    hits = np.flatnonzero(means >= threshold)
    return int(hits[0]) + window - 1 if len(hits) else None


class EpisodeStats:
    """Recent episode returns and whether they meet the solved criterion (:func:`solved_at`)."""

    def __init__(self, window: int, solved_return: float | None) -> None:
        self.recent: deque[float] = deque(maxlen=window)
        self.solved_return = solved_return
        self.episodes = 0

    def add(self, episode_return: float) -> None:
        self.recent.append(episode_return)
        self.episodes += 1

    @property
    def mean(self) -> float | None:
        return sum(self.recent) / len(self.recent) if self.recent else None

    @property
    def solved(self) -> bool:
        """Whether the last ``window`` returns meet the criterion now."""
        window = self.recent.maxlen or 0
        return self.solved_return is not None and solved_at(self.recent, window, self.solved_return) is not None


class Progress:
    """Steps, steps/s and recent mean return: a rich bar or periodic log lines."""

    def __init__(self, total_steps: int, mode: str = "auto", log_every_s: float = 10.0,
                 time_limit_s: float = 0.0) -> None:
        """``time_limit_s`` > 0: the run also ends then, so the ETA is at most the time left."""
        if mode == "auto":
            mode = "bar" if sys.stdout.isatty() else "log"
        self.mode, self.total, self.log_every_s = mode, total_steps, log_every_s
        self.time_limit_s = time_limit_s
        self.start = time.monotonic()
        self.last_log = self.start
        self.bar: RichProgress | None = None
        if mode == "bar":
            self.bar = RichProgress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
                                    TextColumn("{task.fields[rate]:>8,.0f} steps/s"),
                                    TextColumn("return {task.fields[ret]}"), TimeRemainingColumn())
            self.task = self.bar.add_task("train", total=total_steps, rate=0.0, ret="-")
            self.bar.start()

    def update(self, global_step: int, mean_return: float | None, eval_return: float | None = None,
               start_step: int = 0) -> None:
        """Show progress; ``start_step`` is where a resumed run began (for the rate)."""
        now = time.monotonic()
        rate = (global_step - start_step) / max(now - self.start, 1e-9)
        ret = "-" if mean_return is None else f"{mean_return:.1f}"
        if eval_return is not None:
            ret += f"  eval {eval_return:.1f}"
        if self.bar is not None:
            self.bar.update(self.task, completed=min(global_step, self.total), rate=rate, ret=ret)
        elif self.mode == "log" and now - self.last_log >= self.log_every_s:
            self.last_log = now
            pct = 100.0 * global_step / self.total
            eta = (self.total - global_step) / rate if rate > 0 else float("inf")
            if self.time_limit_s > 0:
                eta = min(eta, max(0.0, self.time_limit_s - (now - self.start)))
            print(f"step {global_step:,}/{self.total:,} ({pct:.0f}%)  {rate:,.0f} steps/s  "
                  f"ETA {eta:,.0f} s  recent return {ret}", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
