"""A Hogwild group: the local runtime inside one Ray actor, exchanging with the parameter server.

Inside the group, ``workers`` worker processes share the group's model,
optimizer statistics and step counter in shared memory, exactly as
``runtime=processes`` (the same :class:`~asyncrl.runtime.runner.Runner`).
Beside it, a thread exchanges with the parameter server every
``runtime.sync_interval`` (the group's agent steps, or seconds): it sends the
parameter change since the last exchange and the steps taken, and takes the
global parameters back. Updates the workers make during an exchange are kept
(the group moves to global + those updates), so nothing a worker learned is
overwritten.

The group's step counter follows the global step (so the lr and epsilon
schedules and the step budget are the run's), and its target network is the
parameter server's: the group never syncs one itself.

A worker that fails makes the group exit; Ray restarts it (up to
``runtime.max_group_restarts`` times) and it rejoins from the global
parameters with fresh random streams. Its semaphores are named after the
run, the group and the incarnation, so the driver can remove those Ray's kill
leaves on the node (:mod:`asyncrl.runtime.ray.semaphores`).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import ray

from asyncrl.build import RunParts
from asyncrl.runtime.ray import flat
from asyncrl.runtime.ray.semaphores import group_prefix, name_semaphores, semaphore_files
from asyncrl.runtime.runner import Runner, RunResult
from asyncrl.runtime.shared import create_shared_state
from asyncrl.runtime.worker import Record

# A group whose worker failed waits this long for the driver to collect its last records, then exits.
FAILED_GRACE_S = 3.0


class Group:
    """One Hogwild group (run as a Ray actor with ``workers`` CPUs)."""

    def __init__(self, parts: RunParts, group: int, run_id: str, server_name: str, start_time: float,
                 generation: int) -> None:
        cfg = parts.config
        server = ray.get_actor(server_name)
        self.group, self.server, self.runtime = group, server, cfg.runtime
        self.node = ray.get_runtime_context().get_node_id()
        self.incarnation: int = ray.get(server.join.remote(group))
        self.semaphore_prefix = group_prefix(run_id, group, self.incarnation)
        name_semaphores(self.semaphore_prefix)
        self.shared = create_shared_state(parts)
        self.shared.target_interval = None  # the parameter server syncs the target, cluster-wide
        self.params = list(self.shared.model.parameters())
        self.target = list(self.shared.target.parameters()) if self.shared.target is not None else None
        state = ray.get(server.snapshot.remote())
        flat.load(self.params, state.params)
        if self.target is not None:
            flat.load(self.target, state.target)
        self.target_version = state.target_version
        self.shared.set_global_step(state.global_step)
        self.base, self.synced_step = state.params.copy(), state.global_step
        self.contributed = self.bytes_sent = self.bytes_received = 0
        self.records: list[Record] = []
        self.lock = threading.Lock()
        self.drained = threading.Event()
        self.result: RunResult | None = None
        self.done = False  # the runner has ended and the last updates are with the parameter server
        self.runner = Runner(parts, self.shared, self._sink, start_time, (generation, group + 1, self.incarnation),
                             kind="processes")  # each group and each restart of one: random streams of its own
        self.semaphores = len(semaphore_files(self.semaphore_prefix))  # the shared state's and the queue's
        threading.Thread(target=self._run, name="asyncrl-group", daemon=True).start()
        threading.Thread(target=self._sync_loop, name="asyncrl-sync", daemon=True).start()

    def _sink(self, record: Record) -> bool:
        """Worker records, tagged with the group and node, wait here for the driver."""
        with self.lock:
            self.records.append({**record, "group": self.group, "node": self.node})
        return False  # stopping is the parameter server's and the driver's decision

    def _run(self) -> None:
        result = self.runner.run()
        if result.status == "failed":
            with self.lock:
                self.records.append({"type": "group_error", "group": self.group, "node": self.node,
                                     "incarnation": self.incarnation, "error": result.error})
            self.drained.clear()
            self.drained.wait(FAILED_GRACE_S)
            os._exit(1)  # an unexpected exit: Ray restarts the group, which rejoins from the global parameters
        self.result = result

    def _sync_loop(self) -> None:
        """Exchange on the group's clock until its runner ends, then once more (the last updates)."""
        interval, by_steps = self.runtime.sync_interval, self.runtime.sync_unit == "steps"
        while self.result is None:
            due = time.monotonic() + interval
            while self.result is None and (self.shared.global_step - self.synced_step < interval if by_steps
                                           else time.monotonic() < due):
                time.sleep(0.005 if by_steps else 0.05)
            self.exchange()
        self.exchange()
        self.done = True

    def exchange(self) -> None:
        """Send the change since the last exchange and the steps taken; move to the global parameters."""
        snapshot = flat.flatten(self.params)
        now = self.shared.global_step
        steps = now - self.synced_step
        reply = ray.get(self.server.exchange.remote(snapshot - self.base, steps, self.target_version))
        flat.add(self.params, reply.params - snapshot)  # global + whatever the workers learned meanwhile
        self.shared.rebase_global_step(now, reply.global_step)
        self.base, self.synced_step = reply.params, reply.global_step
        if reply.target is not None and self.target is not None:
            flat.load(self.target, reply.target)
            self.target_version = reply.target_version
        self.contributed += steps
        self.bytes_sent += snapshot.nbytes
        self.bytes_received += reply.params.nbytes + (0 if reply.target is None else reply.target.nbytes)
        if reply.stop:
            self.shared.stop.set()

    def drain(self) -> dict[str, Any]:
        """The records since the last call, and where the group stands."""
        with self.lock:
            records, self.records = self.records, []
        self.drained.set()
        done = self.done
        return {"incarnation": self.incarnation, "node": self.node, "pid": os.getpid(),
                "worker_pids": [w.pid for w in self.runner.workers if getattr(w, "pid", None)],
                "records": records, "done": done,
                "semaphore_prefix": self.semaphore_prefix, "semaphores": self.semaphores,
                "status": self.result.status if done and self.result else None, "steps": self.contributed,
                "bytes_sent": self.bytes_sent, "bytes_received": self.bytes_received}

    def stop(self) -> None:
        """Stop the group's workers now (they finish their segment)."""
        self.shared.stop.set()
