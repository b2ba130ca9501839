"""Save, load and resume checkpoints: written atomically, loaded with weights_only.

A checkpoint holds everything needed to continue a run where it was: the
shared model, the target network, the shared optimizer statistics, the global
step (which positions the learning-rate and epsilon schedules), the config,
the main process's RNG states and the run's bookkeeping (episodes, wall time,
best evaluation, how often it was resumed). Per-worker optimizer statistics
(``shared_stats=false``) live in the workers and start afresh on resume.
"""

from __future__ import annotations

import io
import os
import random
from dataclasses import fields
from pathlib import Path
from typing import Any

import torch
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from asyncrl.config import Config, ConfigError, LoggerConfig
from asyncrl.registry import require_saved_algorithm

FORMAT = "asyncrl-checkpoint"
VERSION = 1
FILENAME = "checkpoint.pt"


class CheckpointError(ValueError):
    """The file is not an asyncrl checkpoint this version can read."""


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` via a temporary file and an atomic rename.

    A crash while writing leaves the previous checkpoint in place.
    """
    tmp = path.with_name(path.name + ".tmp")
    # Serialized in memory, then written as plain bytes: a full disk then raises OSError (ENOSPC), as for
    # every other file of the run, where torch.save straight to the file raises an opaque RuntimeError.
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "version": VERSION, **payload}, buffer)
    with open(tmp, "wb") as out:
        out.write(buffer.getbuffer())
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint; only tensors and plain containers are unpickled."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a bad file
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(exc).__name__})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an asyncrl checkpoint")
    if data.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {data.get('version')}, expected {VERSION}")
    if isinstance(data.get("config"), dict):
        data["config"] = upgrade_config(data["config"])
        name = data["config"].get("algo", {}).get("name")
        if isinstance(name, str):
            require_saved_algorithm(name, str(path))
    return data


def upgrade_config(config: dict[str, Any]) -> dict[str, Any]:
    """A config saved by an earlier release, in today's keys, each keeping the meaning it had.

    Evaluation used to cap episodes in agent steps (``eval.max_episode_steps``)
    and play greedily; today's cap is in frames of game time and the default
    policy is the algorithm's evaluation policy. ``logger`` used to name the
    one tracker; today it says which trackers are on.
    """
    eval_cfg = config.get("eval", {})
    if "max_episode_steps" in eval_cfg:
        env = config.get("env", {})
        frames_per_step = env.get("frame_skip", 1) if env.get("kind") == "atari" else 1
        eval_cfg["max_episode_frames"] = eval_cfg.pop("max_episode_steps") * frames_per_step
        eval_cfg.setdefault("deterministic", True)
    if isinstance(config.get("logger"), str):  # one tracker by name, before there were two
        config["logger"] = {"wandb": config["logger"] == "wandb", "tensorboard": False}
    return config


def _logger_keys(override: str) -> list[str]:
    """``logger=wandb`` or ``logger=[wandb,tensorboard]`` on resume, as the keys those options set."""
    key, _, value = override.partition("=")
    if key.lstrip("+~") != "logger":
        return [override]
    trackers = [f.name for f in fields(LoggerConfig)]
    names = [name.strip() for name in value.strip("[]").split(",") if name.strip()]
    for name in names:
        if name not in ("none", *trackers):
            raise ConfigError(f"logger={name!r}: no such option; one of {', '.join(sorted(('none', *trackers)))}")
    return [f"logger.{tracker}={str(tracker in names).lower()}" for tracker in trackers]


def checkpoint_payload(shared: Any, config: dict[str, Any], run_state: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint of ``shared`` (a SharedState) holds, besides format and version."""
    return {
        "model": shared.model.state_dict(),
        "target": shared.target.state_dict() if shared.target is not None else None,
        "optim_state": shared.optim_state,
        "global_step": shared.global_step,
        "config": config,
        "rng": {"torch": torch.get_rng_state(), "python": list(random.getstate()[1])},
        "run_state": run_state,
    }


def restore(shared: Any, ckpt: dict[str, Any]) -> None:
    """Load a checkpoint into freshly built shared state, in place (still shared)."""
    shared.model.load_state_dict(ckpt["model"])
    if shared.target is not None and ckpt.get("target") is not None:
        shared.target.load_state_dict(ckpt["target"])
    if shared.optim_state is not None and ckpt.get("optim_state") is not None:
        with torch.no_grad():
            for mine, saved in zip(shared.optim_state, ckpt["optim_state"], strict=True):
                mine.copy_(saved)
    shared.set_global_step(int(ckpt["global_step"]))
    torch.set_rng_state(ckpt["rng"]["torch"])
    state = random.getstate()
    random.setstate((state[0], tuple(ckpt["rng"]["python"]), state[2]))


def resume_config(run_dir: Path, overrides: list[str]) -> tuple[DictConfig, dict[str, Any]]:
    """The saved config of ``run_dir`` with ``key=value`` overrides, and its checkpoint.

    Only existing keys may be overridden (``total_steps=...`` to train longer,
    say); changing a config group (``algo=...``) on resume is refused.
    """
    if not (run_dir / FILENAME).exists():
        raise ConfigError(f"resume={str(run_dir)!r}: no {FILENAME} in that directory")
    ckpt = load_checkpoint(run_dir / FILENAME)
    overrides = [key for override in overrides for key in _logger_keys(override)]
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if isinstance(ckpt["config"].get(key), dict) or key == "profile":
            raise ConfigError(f"{override}: config group {key!r} cannot be changed when resuming")
    cfg = OmegaConf.merge(OmegaConf.structured(Config), ckpt["config"])  # typed top-level keys again
    OmegaConf.set_struct(cfg, True)
    try:
        # Hydra's grammar, as on a fresh run: `progress=off` is the string "off", not YAML's false.
        for override in OverridesParser.create().parse_overrides(overrides):
            OmegaConf.update(cfg, override.key_or_group, override.value(), merge=True)
    except HydraException as exc:
        raise ConfigError(f"{' '.join(overrides)}: {str(exc).splitlines()[0]}") from None
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or "override"
        raise ConfigError(f"{key}: cannot be set when resuming ({str(exc).splitlines()[0]})") from None
    cfg.resume = str(run_dir)
    return cfg, ckpt
