"""The parameter server: one Ray actor holding what the whole run shares.

Groups send the change of their parameters since their last exchange and the
agent steps they took; the server adds both and sends back the global
parameters. It owns the cluster-wide counters: the global step (which
positions the lr and epsilon schedules everywhere), the target network,
synced exactly once per ``target_interval`` boundary the global step
crosses, and the stop signal (the step budget, or the driver's word).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Exchange:
    """What a group gets back from one exchange."""

    params: np.ndarray  # the global parameters, this exchange's change included
    global_step: int
    target: np.ndarray | None  # the target network, when it changed since the group's last copy
    target_version: int
    stop: bool


@dataclass
class Snapshot:
    """The whole global state (the driver's checkpoints and evaluations; a group joining)."""

    params: np.ndarray
    target: np.ndarray | None
    global_step: int
    target_syncs: int
    target_version: int
    stop: bool


class ParameterServer:
    """Global parameters, target network, global step and stop signal (run as a Ray actor)."""

    def __init__(self, params: np.ndarray, target: np.ndarray | None, global_step: int, target_syncs: int,
                 target_interval: int | None, total_steps: int) -> None:
        self.params = params.astype(np.float32, copy=True)
        self.target = None if target is None else target.astype(np.float32, copy=True)
        self.global_step, self.target_syncs, self.target_version = int(global_step), int(target_syncs), 0
        self.target_interval, self.total_steps = target_interval, total_steps
        self.stopped = False
        self.joins: dict[int, int] = {}
        self.bytes_in = self.bytes_out = self.exchanges = 0

    def join(self, group: int) -> int:
        """A group (re)starting: its incarnation, 0 the first time."""
        self.joins[group] = self.joins.get(group, -1) + 1
        return self.joins[group]

    def exchange(self, delta: np.ndarray, steps: int, target_version: int) -> Exchange:
        """Add a group's parameter change and steps; give back the global state it lacks."""
        self.params += delta
        before, self.global_step = self.global_step, self.global_step + int(steps)
        if self.target is not None and self.target_interval:
            crossed = self.global_step // self.target_interval - before // self.target_interval
            if crossed > 0:  # each boundary is crossed by exactly one exchange
                np.copyto(self.target, self.params)
                self.target_syncs += crossed
                self.target_version += 1
        if self.global_step >= self.total_steps:
            self.stopped = True
        send_target = self.target is not None and target_version != self.target_version
        self.exchanges += 1
        self.bytes_in += delta.nbytes
        self.bytes_out += self.params.nbytes + (self.target.nbytes if send_target else 0)
        return Exchange(self.params, self.global_step, self.target if send_target else None, self.target_version,
                        self.stopped)

    def snapshot(self) -> Snapshot:
        """Everything, as of now."""
        return Snapshot(self.params, self.target, self.global_step, self.target_syncs, self.target_version,
                        self.stopped)

    def stop(self) -> None:
        """Stop the run: every group stops at its next exchange."""
        self.stopped = True

    def traffic(self) -> dict[str, int]:
        """Bytes received and sent, and exchanges, so far."""
        return {"bytes_in": self.bytes_in, "bytes_out": self.bytes_out, "exchanges": self.exchanges}
