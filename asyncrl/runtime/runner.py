"""Start, monitor and stop the workers (processes or threads).

The main process only drains the record queue: it hands every record to a
sink (files, progress), watches the workers, and stops them all on the step
budget, a solved task, Ctrl-C/SIGTERM, or the first worker error.
"""

from __future__ import annotations

import os
import queue as queue_lib
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch

from asyncrl.runtime.shared import CTX, SharedState
from asyncrl.runtime.worker import READY, RUNNING, STARTING, Record, WorkerSpec, worker_main

if TYPE_CHECKING:
    from asyncrl.build import RunParts

class WorkerError(RuntimeError):
    """A worker failed; the message holds its id and its traceback."""


@dataclass
class RunResult:
    """How the workers' part of a run ended."""

    status: str  # finished | solved | interrupted | failed
    error: str | None = None


class Runtime(Protocol):
    """What a run asks of its runtime (worker processes, threads, or Hogwild groups on Ray).

    Built with the run's parts, shared state, a record ``sink`` (it returns
    True when the run should stop early) and a ``should_stop`` asked on a
    clock; ``run`` returns how the workers' part ended and leaves no worker
    behind.
    """

    def run(self) -> RunResult: ...


def worker_seeds(seed: int, workers: int, streams: tuple[int, ...] = ()) -> list[int]:
    """Independent per-worker seeds derived from the run seed.

    ``streams`` tells apart runs of workers that must not share random
    streams: a resumed run's generation (so it does not replay the streams
    its workers already used), and under runtime=ray each group and each
    restart of one.
    """
    entropy: int | list[int] = [seed, *streams] if streams else seed
    children = np.random.SeedSequence(entropy).spawn(workers)
    return [int(child.generate_state(1)[0]) for child in children]


class StopOnSignal:
    """Turn SIGTERM into KeyboardInterrupt while workers run (main thread only)."""

    def __enter__(self) -> None:
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._raise)

    @staticmethod
    def _raise(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


class Runner:
    """Runs ``workers`` actor-learners on ``shared`` and feeds records to ``sink``.

    ``sink`` returns True when the run should stop early (e.g. solved);
    ``should_stop``, asked on a clock whether or not records arrive, stops it
    as well (the run's time limit, which must hold while workers start up).
    """

    def __init__(self, parts: RunParts, shared: SharedState, sink: Callable[[Record], bool],
                 start_time: float, streams: tuple[int, ...] = (), should_stop: Callable[[], bool] | None = None,
                 kind: str | None = None) -> None:
        """``streams`` picks the workers' random streams (:func:`worker_seeds`); ``kind`` is processes or
        threads (``runtime.kind`` unless given)."""
        cfg = parts.config
        self.shared, self.sink = shared, sink
        self.kind = kind or cfg.runtime.kind
        self.join_timeout = cfg.runtime.join_timeout_s
        self.queue = CTX.Queue()
        seeds = worker_seeds(cfg.seed, cfg.workers, streams)
        # A worker process outlives a main process killed with SIGKILL unless it checks this pid.
        main_pid = os.getpid() if self.kind == "processes" else None
        self.specs = [WorkerSpec(k, seeds[k], parts, start_time, main_pid) for k in range(cfg.workers)]
        self.workers: list[Any] = []
        self.done: set[int] = set()
        self.heartbeat_s = cfg.runtime.heartbeat_timeout_s
        self.startup_s = cfg.runtime.startup_timeout_s
        self.should_stop = should_stop or (lambda: False)
        self.last_seen: dict[int, float] = {}
        self.started: dict[int, float] = {}
        self.phase: dict[int, str] = {}

    def _start(self) -> None:
        if self.kind == "threads":
            torch.set_num_threads(1)
        for spec in self.specs:
            self.last_seen[spec.worker_id] = self.started[spec.worker_id] = time.monotonic()
            self.phase[spec.worker_id] = STARTING
            args = (spec, self.shared, self.queue)
            if self.kind == "processes":
                worker = CTX.Process(target=worker_main, args=args, name=f"asyncrl-worker-{spec.worker_id}",
                                     daemon=True)
            else:
                worker = threading.Thread(target=worker_main, args=args, name=f"asyncrl-worker-{spec.worker_id}",
                                          daemon=True)
            worker.start()
            self.workers.append(worker)

    def _dead_worker(self) -> str | None:
        """A worker that exited without saying so (killed, crashed), never finished starting, or went silent."""
        now = time.monotonic()
        for spec, worker in zip(self.specs, self.workers, strict=True):
            wid = spec.worker_id
            if wid in self.done:
                continue
            code = getattr(worker, "exitcode", None)
            if code not in (None, 0):
                return f"worker {wid} died with exit code {code} (killed by a signal if negative)"
            if self.phase[wid] == READY:  # built, and waiting for a worker that is still starting: that one is named
                continue
            if self.phase[wid] != RUNNING:  # start-up is timed as start-up, not as silence
                took = now - self.started[wid]
                if took > self.startup_s:
                    return (f"worker {wid} had not finished starting after {took:.0f} s (phase: {self.phase[wid]}; "
                            f"runtime.startup_timeout_s={self.startup_s:g}); more workers than the cores can start?")
                continue
            silent = now - self.last_seen.get(wid, now)
            if silent > self.heartbeat_s:
                return (f"worker {spec.worker_id} sent nothing for {silent:.0f} s "
                        f"(runtime.heartbeat_timeout_s={self.heartbeat_s:g}); stuck, e.g. in env.step?")
        return None

    def _handle(self, record: Record) -> str | None:
        """Pass one record on; return a stop reason, if any."""
        kind = record["type"]
        self.last_seen[record["worker"]] = time.monotonic()
        if kind == "phase":  # start-up progress is the runtime's own business, not a run record
            self.phase[record["worker"]] = record["phase"]
            if all(phase == READY for phase in self.phase.values()):
                self.shared.go.set()  # every worker is built: all start stepping together
            return None
        if kind == "worker":
            self.phase[record["worker"]] = RUNNING
        if kind == "error":
            return f"worker {record['worker']} failed:\n{record['traceback']}"
        if kind == "done":
            self.done.add(record["worker"])
            return None
        if self.sink(record):
            self.shared.stop.set()
        return None

    def run(self) -> RunResult:
        """Run until the budget is spent; never leaves a worker behind."""
        result = RunResult("finished")
        with StopOnSignal():
            try:
                self._start()
                next_check = time.monotonic()
                while len(self.done) < len(self.workers) and not self.shared.stop.is_set():
                    try:
                        error = self._handle(self.queue.get(timeout=0.2))
                    except queue_lib.Empty:
                        error = None
                    # On a clock, not only when the queue is quiet: live workers keep it busy.
                    if error is None and time.monotonic() >= next_check:
                        error = self._dead_worker()
                        if self.should_stop():
                            self.shared.stop.set()
                        next_check = time.monotonic() + 0.5
                    if error is not None:
                        result = RunResult("failed", error)
                        break
            except KeyboardInterrupt:
                result = RunResult("interrupted")
            except OSError as exc:  # the main process could not write the run's files
                result = RunResult("failed", f"cannot write the run directory: {exc}")
            finally:
                self.shared.stop.set()
                late_error = self._shutdown()
        if result.status == "finished" and late_error is not None:
            result = RunResult("failed", late_error)
        return result

    def _shutdown(self) -> str | None:
        """Stop and join every worker, draining records meanwhile; kill stragglers.

        Waits at most ``runtime.join_timeout_s``; a second Ctrl-C ends the wait
        at once. Worker processes still alive then are killed.
        """
        deadline = time.monotonic() + self.join_timeout
        error = None
        try:
            while len(self.done) < len(self.workers) and time.monotonic() < deadline:
                if not any(worker.is_alive() for worker in self.workers):
                    break
                try:
                    error = self._handle(self.queue.get(timeout=0.1)) or error
                except queue_lib.Empty:
                    continue
                except OSError:
                    continue  # the run directory is failing: keep stopping the workers
            self._drain()
            for worker in self.workers:
                worker.join(timeout=max(0.1, deadline - time.monotonic()))
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: stop waiting
        for worker in self.workers:
            if not isinstance(worker, threading.Thread) and worker.is_alive():
                worker.kill()
                worker.join(timeout=5)
        self.queue.close()
        return error

    def _drain(self) -> None:
        """Pass on the records still queued (final episodes of each worker)."""
        while True:
            try:
                record = self.queue.get_nowait()
            except (queue_lib.Empty, OSError, ValueError):
                return
            if record["type"] not in ("error", "done"):
                try:
                    self.sink(record)
                except OSError:
                    return
