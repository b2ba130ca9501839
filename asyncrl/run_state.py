"""A run's bookkeeping: what the main process counts while a run trains and a checkpoint carries over."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass
class RunState:
    """Counts and bests over the whole run, all sessions of a resumed one together.

    The recorder (:class:`asyncrl.recorder.RunRecorder`) is its only writer;
    checkpoints store it as a plain dict under ``run_state``.
    """

    episodes: int = 0  # episodes finished by all workers
    wall_s: float = 0.0  # seconds of training in the earlier sessions (the current one is on the clock)
    startup_s: float = 0.0  # seconds of worker start-up in the earlier sessions
    best_eval_return: float | None = None
    last_eval_return: float | None = None
    solved_at: dict[str, float] | None = None  # {"global_step", "wall_s"} of the first solved window
    resumes: int = 0  # sessions before this one
    skipped_updates: int = 0  # updates skipped for a non-finite loss or gradient

    def to_dict(self) -> dict[str, Any]:
        """As a checkpoint stores it."""
        return dataclasses.asdict(self)

    @classmethod
    def resumed(cls, saved: dict[str, Any]) -> RunState:
        """The state a checkpoint saved, for the session that continues it (one more resume)."""
        known = {f.name for f in dataclasses.fields(cls)}
        state = cls(**{key: value for key, value in saved.items() if key in known})
        state.resumes += 1
        return state
