"""Save and load checkpoints: written atomically, loaded with weights_only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

FORMAT = "asyncrl-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """The file is not an asyncrl checkpoint this version can read."""


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` via a temporary file and an atomic rename.

    A crash while writing leaves the previous checkpoint in place.
    """
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, "version": VERSION, **payload}, tmp)
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
    return data
