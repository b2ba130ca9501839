"""The Python API: compose a config as the command line does, train it, get an agent back.

    import asyncrl

    cfg = asyncrl.make_config("algo=nstep_q", "env=cartpole", workers=2, total_steps=50_000)
    result = asyncrl.train(cfg)                 # a run directory, as `python -m asyncrl` writes it
    print(result.summary["status"], result.run_dir)
    actions, state = result.agent.act(obs_batch)
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from asyncrl.agent import Agent
from asyncrl.build import RunParts, build_run, compose, finalize
from asyncrl.checkpoint import FILENAME, load_checkpoint, resume_config
from asyncrl.config import Config
from asyncrl.registry import report_plugin_problems
from asyncrl.rundir import RunDirectory
from asyncrl.training import run_training

_PLAIN = re.compile(r"^[\w./:-]+$")


def _value(value: Any) -> str:
    """A Python value as a Hydra override value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_value(v) for v in value) + "]"
    if isinstance(value, str) and not _PLAIN.match(value):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return str(value)


def _overrides(key: str, value: Any) -> list[str]:
    """``key=value`` overrides for one keyword argument; a mapping sets its keys one by one."""
    if isinstance(value, Mapping):
        return [o for k, v in value.items() for o in _overrides(f"{key}.{k}", v)]
    return [f"{key}={_value(value)}"]


def make_config(*overrides: str, **kw: Any) -> DictConfig:
    """The config ``python -m asyncrl OVERRIDES`` would train, validated.

    ``overrides`` are command-line overrides (``"algo=nstep_q"``,
    ``"optim.lr=1e-3"``, ``"resume=RUN_DIR"``); keyword arguments are more of
    them (``workers=2``, ``optim={"lr": 1e-3}``, ``**{"env.id": "Acrobot-v1"}``).
    Tuned presets apply as on the command line. Returns a typed DictConfig
    (assigning a value of the wrong type raises). Bad input raises
    :class:`asyncrl.ConfigError` with the command line's one-line message.
    """
    report_plugin_problems()
    args = [*overrides, *(o for key, value in kw.items() for o in _overrides(key, value))]
    resumes = [a.split("=", 1)[1] for a in args if a.startswith("resume=")]
    if resumes and resumes[-1] not in ("", "null"):
        cfg, _ = resume_config(Path(resumes[-1]), [a for a in args if not a.startswith("resume=")])
    else:
        cfg = compose(args)
    cfg = finalize(cfg)
    build_run(cfg)  # the env exists and the algorithm can act in it
    return cfg


@dataclass
class TrainResult:
    """What :func:`train` gives back."""

    run_dir: Path  # metrics.jsonl, summary.json, checkpoint.pt, .hydra/config.yaml
    summary: dict[str, Any]  # what summary.json holds
    agent: Agent  # the trained network as of the final checkpoint


@contextmanager
def _process_settings_kept() -> Iterator[None]:
    """Training sets torch's thread count and random states; give the caller's back afterwards."""
    threads = torch.get_num_threads()
    torch_rng, python_rng, numpy_rng = torch.get_rng_state(), random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.set_rng_state(torch_rng)
        random.setstate(python_rng)
        np.random.set_state(numpy_rng)


def default_run_dir(parts: RunParts) -> Path:
    """``outputs/<date>/<time>_<algo>_<env>`` under the working directory, as the command line names runs."""
    cfg = parts.config
    stem = Path("outputs") / time.strftime("%Y-%m-%d") / f"{time.strftime('%H-%M-%S')}_{cfg.algo.name}_{cfg.env.name}"
    path, n = stem, 1
    while path.exists():
        n += 1
        path = stem.with_name(f"{stem.name}_{n}")
    return path


def train(cfg: DictConfig | Config, run_dir: str | Path | None = None, *, wandb_group: str | None = None
          ) -> TrainResult:
    """Train ``cfg`` (from :func:`make_config`) into ``run_dir``; block until the run ends.

    ``run_dir`` defaults to the resumed run's directory (``resume=``) or a new
    ``outputs/<date>/<time>_<algo>_<env>``. The directory gets the same files
    as a command-line run. The caller's torch thread count and random states
    are restored afterwards. ``wandb_group`` is the wandb group when
    ``wandb.group`` is null (the command line passes a sweep's name).

    Raises :class:`asyncrl.ConfigError` for a bad config (nothing started),
    and :class:`asyncrl.WorkerError` when a worker failed (summary.json
    written first). Ctrl-C stops the run cleanly: its summary says
    ``interrupted``.
    """
    parts = build_run(cfg)
    resume = parts.config.resume
    ckpt = load_checkpoint(Path(resume) / FILENAME) if resume else None
    run_dir = Path(run_dir) if run_dir is not None else Path(resume) if resume else default_run_dir(parts)
    resumed = resume is not None and Path(resume).resolve() == run_dir.resolve()
    with RunDirectory(run_dir, resume=resumed, overwrite=parts.config.overwrite):
        hydra_dir = run_dir / ".hydra"
        # The command line's Hydra writes it; a run from code gets the same record (a new one when it
        # replaces an earlier run).
        replaced = parts.config.overwrite and not resumed and not HydraConfig.initialized()
        if not hydra_dir.exists() or replaced:
            hydra_dir.mkdir(parents=True, exist_ok=True)
            OmegaConf.save(finalize(cfg), hydra_dir / "config.yaml")
        with _process_settings_kept():
            summary = run_training(parts, run_dir, ckpt, wandb_group)
    # The run's own parts: its config was validated once, as it started.
    return TrainResult(run_dir, summary, Agent.from_checkpoint(parts, load_checkpoint(run_dir / FILENAME), run_dir))
