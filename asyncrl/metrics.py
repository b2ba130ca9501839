"""Sinks for the records workers send (main process only).

``metrics.jsonl`` gets every record as one JSON line, flushed at once so a
crash loses nothing already reported. :class:`Progress` shows a live bar on a
terminal and plain periodic lines otherwise (CI, redirected output).
:class:`WandbSink` sends the same numbers to Weights & Biases.

Metric names are grouped: ``train/*`` (loss terms, lr, grad_norm; per worker
report), ``worker_k/*`` (that worker's steps/s and exploration), ``time/*``
and ``rollout/return_mean`` (main-process progress records), ``eval/*``.
Episode records keep the contract's plain keys (``episode_return``, ...) in
metrics.jsonl and go to wandb as ``rollout/episode_return`` and
``rollout/episode_length``.
"""

from __future__ import annotations

import json
import netrc
import os
import socket
import sys
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlparse

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


def wandb_data(record: Record) -> dict[str, float]:
    """The numbers of one record under grouped keys, with its global step."""
    kind = record["type"]
    if kind == "episode":
        data = {"rollout/episode_return": record["episode_return"],
                "rollout/episode_length": record["episode_length"]}
    elif kind == "worker":
        data = {f"worker_{record['worker']}/{k}": v for k, v in record.items()
                if k not in ("type", "worker", "seed", "wall_s") and isinstance(v, (int, float))}
    else:
        data = {k: v for k, v in record.items() if "/" in k and isinstance(v, (int, float))}
    if data and "global_step" in record:
        data["global_step"] = record["global_step"]
    return data


def _no_online_reason() -> str | None:
    """Why wandb online mode would fail or hang here, or None if it looks usable."""
    url = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai"))
    host = url.hostname or "api.wandb.ai"
    try:
        has_key = bool(os.environ.get("WANDB_API_KEY")) or bool(netrc.netrc().authenticators(host))
    except (OSError, netrc.NetrcParseError):
        has_key = bool(os.environ.get("WANDB_API_KEY"))
    if not has_key:
        return "no API key"
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=3.0).close()
    except OSError as exc:
        return f"cannot reach {host}:{port} ({exc.__class__.__name__})"
    return None


class WandbSink:
    """One wandb run fed by the main process: the composed config, every record, the summary."""

    def __init__(self, wandb_cfg: Any, config: dict[str, Any], run_dir: Path, name: str,
                 group: str | None) -> None:
        import wandb

        mode = wandb_cfg.mode
        if mode == "online":
            reason = _no_online_reason()
            if reason is not None:
                # wandb online without a network blocks ~40 s, then fails the run.
                print(f"warning: wandb online mode unavailable ({reason}); logging offline instead",
                      file=sys.stderr, flush=True)
                mode = "offline"
        self.run = wandb.init(mode=mode, project=wandb_cfg.project, entity=wandb_cfg.entity, group=group,
                              tags=list(wandb_cfg.tags), name=name, config=config, dir=str(run_dir),
                              settings=wandb.Settings(console="off", silent=True))
        self.run.define_metric("global_step")
        self.run.define_metric("*", step_metric="global_step")

    def write(self, record: Record) -> None:
        data = wandb_data(record)
        if data:
            self.run.log(data)

    def close(self, summary: dict[str, Any]) -> None:
        for key, value in summary.items():
            if isinstance(value, (int, float, str, bool)) or value is None:
                self.run.summary[key] = value
        self.run.finish(exit_code=0 if summary.get("status") != "failed" else 1)
