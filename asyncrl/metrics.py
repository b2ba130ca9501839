"""Sinks for the records workers send (main process only).

``metrics.jsonl`` gets every record as one JSON line, flushed at once so a
crash loses nothing already reported. :class:`Progress` shows a live bar on a
terminal and plain periodic lines otherwise (CI, redirected output).
"""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any, TextIO

from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

Record = dict[str, Any]


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


class EpisodeStats:
    """Recent episode returns and whether they meet the solved criterion."""

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
        full = len(self.recent) == self.recent.maxlen
        return self.solved_return is not None and full and self.mean >= self.solved_return  # type: ignore[operator]


class Progress:
    """Steps, steps/s and recent mean return: a rich bar or periodic log lines."""

    def __init__(self, total_steps: int, mode: str = "auto", log_every_s: float = 10.0) -> None:
        if mode == "auto":
            mode = "bar" if sys.stdout.isatty() else "log"
        self.mode, self.total, self.log_every_s = mode, total_steps, log_every_s
        self.start = time.monotonic()
        self.last_log = self.start
        self.bar: RichProgress | None = None
        if mode == "bar":
            self.bar = RichProgress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
                                    TextColumn("{task.fields[rate]:>8,.0f} steps/s"),
                                    TextColumn("return {task.fields[ret]}"), TimeRemainingColumn())
            self.task = self.bar.add_task("train", total=total_steps, rate=0.0, ret="-")
            self.bar.start()

    def update(self, global_step: int, mean_return: float | None) -> None:
        now = time.monotonic()
        rate = global_step / max(now - self.start, 1e-9)
        ret = "-" if mean_return is None else f"{mean_return:.1f}"
        if self.bar is not None:
            self.bar.update(self.task, completed=min(global_step, self.total), rate=rate, ret=ret)
        elif self.mode == "log" and now - self.last_log >= self.log_every_s:
            self.last_log = now
            pct = 100.0 * global_step / self.total
            print(f"step {global_step:,}/{self.total:,} ({pct:.0f}%)  {rate:,.0f} steps/s  "
                  f"recent return {ret}", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
