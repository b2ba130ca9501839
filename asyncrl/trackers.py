"""Experiment trackers fed by the main process: Weights & Biases and TensorBoard (the ``logger`` group).

Both get the same numbers, from every record the run writes to metrics.jsonl,
under grouped names: ``train/*`` (loss terms, lr, grad_norm; per worker
report), ``worker_k/*`` (that worker's steps/s and exploration), ``time/*``
and ``rollout/return_mean`` (main-process progress records), ``eval/*``.
Episode records keep the contract's plain keys (``episode_return``, ...) in
metrics.jsonl and go to the trackers as ``rollout/episode_return`` and
``rollout/episode_length``. The x axis is the global step (agent steps).
"""

from __future__ import annotations

import netrc
import os
import socket
import sys
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from asyncrl.config import to_plain
from asyncrl.runtime.worker import Record

TENSORBOARD_FLUSH_S = 10  # how stale a live TensorBoard may be; closing a run flushes the rest


class Tracker(Protocol):
    """Where a run's records go besides metrics.jsonl."""

    def write(self, record: Record) -> None: ...

    def close(self, summary: dict[str, Any]) -> None: ...


def scalars(record: Record) -> dict[str, float]:
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
        data = scalars(record)
        if data:
            self.run.log(data)

    def close(self, summary: dict[str, Any]) -> None:
        for key, value in summary.items():
            if isinstance(value, (int, float, str, bool)) or value is None:
                self.run.summary[key] = value
        self.run.finish(exit_code=0 if summary.get("status") != "failed" else 1)


class TensorBoardSink:
    """One TensorBoard event file in the run directory: every record's scalars, and the summary's as text."""

    def __init__(self, run_dir: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(run_dir), flush_secs=TENSORBOARD_FLUSH_S)

    def write(self, record: Record) -> None:
        data = scalars(record)
        step = data.pop("global_step", None)
        for key, value in data.items():
            self.writer.add_scalar(key, value, global_step=step)

    def close(self, summary: dict[str, Any]) -> None:
        lines = [f"| {key} | {value} |" for key, value in summary.items()
                 if isinstance(value, (int, float, str, bool)) or value is None]
        self.writer.add_text("summary", "\n".join(["| key | value |", "|---|---|", *lines]),
                             global_step=summary.get("global_steps"))
        self.writer.close()


def open_trackers(cfg: Any, run_dir: Path, name: str, wandb_group: str | None) -> list[Tracker]:
    """The trackers ``cfg.logger`` asks for, opened on ``run_dir``."""
    trackers: list[Tracker] = []
    if cfg.logger.wandb:
        trackers.append(WandbSink(cfg.wandb, to_plain(cfg), run_dir, name, cfg.wandb.group or wandb_group))
    if cfg.logger.tensorboard:
        trackers.append(TensorBoardSink(run_dir))
    return trackers
