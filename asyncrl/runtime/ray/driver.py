"""The driver of runtime=ray: connect, place the groups, collect their records, handle faults, stop.

The driver (the ``python -m asyncrl`` process, or :func:`asyncrl.train`) stays
the run directory's only writer: it polls every group for its records and
hands them to the run's recorder, exactly as the local runtime does. It keeps
a local copy of the global state (``mirror``, a :class:`SharedState`) that it
refreshes from the parameter server about once a second and at the end, so
evaluations, checkpoints and the summary read the global parameters.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import ray
from ray.exceptions import ActorUnavailableError, RayActorError
from ray.util.placement_group import placement_group, remove_placement_group
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy, PlacementGroupSchedulingStrategy

from asyncrl.build import RunParts
from asyncrl.config import ConfigError
from asyncrl.runtime.ray import flat
from asyncrl.runtime.ray.group import Group
from asyncrl.runtime.ray.semaphores import remove_semaphores, run_prefix
from asyncrl.runtime.ray.server import ParameterServer
from asyncrl.runtime.runner import RunResult, StopOnSignal
from asyncrl.runtime.shared import SharedState
from asyncrl.runtime.worker import Record

CONNECT_TIMEOUT_S = 10.0  # a HOST:PORT that does not answer within this is unreachable
POLL_S = 0.2  # between two rounds of collecting the groups' records
MIRROR_S = 1.0  # between two refreshes of the driver's copy of the global state


def why_unreachable(address: str) -> str | None:
    """None if HOST:PORT accepts a connection, else why not."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return "expected auto or HOST:PORT"
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


TOKEN_HELP = ("set RAY_AUTH_MODE=token and give this machine the cluster's token (~/.ray/auth_token, or "
              "RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH)")


def _auth_refusal(exc: Exception) -> str:
    """Ray's reason for refusing a token, in its first sentence (the rest is a paragraph of advice)."""
    text = str(exc).splitlines()[0].removeprefix("RPC error: ").removeprefix("InvalidAuthToken: ")
    return text.split(". ")[0]


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Silence file descriptor 2, where Ray's C++ client logs a warning for every refused attempt."""
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def token_refused(address: str) -> str | None:
    """Why the running cluster at ``address`` (``auto`` or HOST:PORT) refuses this machine's token, if it does.

    Asked of the cluster's GCS before ``ray.init``, which on a refused token retries for 20 s and logs a
    warning each second before giving up with a connection error that does not say why. The token is looked
    up as ``ray.init`` looks it up (Ray's own private helpers, pinned with the ``ray`` extra).
    """
    try:
        from ray._private.authentication.authentication_token_setup import (
            ensure_token_if_auth_enabled,
            maybe_enable_token_auth_if_token_available,
        )
        from ray._private.services import canonicalize_bootstrap_address_or_die
        from ray._raylet import GcsClient
    except ImportError:  # a Ray from before token authentication (2.52)
        return None

    if address == "auto":  # ray.init turns token mode on for a cluster it finds itself, if a token is at hand
        maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
    try:
        ensure_token_if_auth_enabled(None, create_token_if_missing=False)
    except (ray.exceptions.AuthenticationError, RuntimeError) as exc:  # token mode without a token
        return _auth_refusal(exc)
    try:
        with _stderr_silenced():
            GcsClient(address=canonicalize_bootstrap_address_or_die(address))
    except ray.exceptions.AuthenticationError as exc:
        return _auth_refusal(exc)
    except Exception:  # no cluster there, say: ray.init reports it
        return None
    return None


class RayCluster:
    """This run's connection to Ray: a local instance (``runtime.address=null``) or a running cluster.

    Inside a Ray task (a sweep's job under Hydra's Ray launcher) the task's own
    connection is used, and left open.
    """

    def __init__(self, owned: bool) -> None:
        self.owned = owned

    @classmethod
    def connect(cls, parts: RunParts) -> RayCluster:
        """Connect and check the cluster has the CPUs the groups need; ConfigError (one line) otherwise."""
        rt, workers = parts.config.runtime, parts.config.workers
        address = rt.address
        if address not in (None, "auto"):
            reason = why_unreachable(address)
            if reason is not None:
                raise ConfigError(f"runtime.address={address!r}: cannot reach a Ray cluster there ({reason})")
        local = {"object_store_memory": rt.object_store_mb * 2**20, "include_dashboard": False} if address is None \
            else {}
        owned = not ray.is_initialized()
        refused = token_refused(address) if owned and address is not None else None
        if refused is not None:
            raise ConfigError(f"runtime.address={address!r}: the Ray cluster refused this machine ({refused}); "
                              f"{TOKEN_HELP}")
        try:
            if owned:
                ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR, configure_logging=True,
                         namespace="asyncrl", **local)
        except ray.exceptions.AuthenticationError as exc:
            raise ConfigError(f"runtime.address={address!r}: the Ray cluster refused this machine "
                              f"({_auth_refusal(exc)}); {TOKEN_HELP}") from None
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ConfigError(f"runtime.address={address!r}: cannot connect to a Ray cluster "
                              f"({str(exc).splitlines()[0]})") from None
        # A group's workers share memory, so each group needs `workers` CPUs on one node.
        node_cpus = sorted((n["Resources"].get("CPU", 0.0) for n in ray.nodes() if n["Alive"]), reverse=True)
        fits = sum(int(cpus // workers) for cpus in node_cpus)
        if fits < rt.groups:
            if owned:
                ray.shutdown()
            raise ConfigError(f"runtime.groups={rt.groups} x workers={workers}: each group needs {workers} CPUs on "
                              f"one node, the cluster's nodes have {', '.join(f'{c:g}' for c in node_cpus)} CPUs, "
                              f"room for {fits} group(s)")
        return cls(owned)

    def close(self) -> None:
        """Disconnect; a local instance this run started stops with it."""
        if self.owned:
            ray.shutdown()


class RayRunner:
    """Runs ``runtime.groups`` Hogwild groups and a parameter server; feeds records to ``sink``.

    The same contract as :class:`asyncrl.runtime.runner.Runner`: ``sink``
    returns True to stop early, ``should_stop`` is asked on a clock, and
    ``run`` returns how the run ended, leaving no actor behind.
    """

    def __init__(self, parts: RunParts, cluster: RayCluster, mirror: SharedState, sink: Callable[[Record], bool],
                 start_time: float, generation: int = 0, should_stop: Callable[[], bool] | None = None) -> None:
        self.parts, self.cluster, self.mirror, self.sink = parts, cluster, mirror, sink
        self.start_time, self.generation = start_time, generation
        self.should_stop = should_stop or (lambda: False)
        self.rt = parts.config.runtime
        self.mirror_params = list(mirror.model.parameters())
        self.mirror_target = list(mirror.target.parameters()) if mirror.target is not None else None
        self.server: Any = None
        self.groups: list[Any] = []
        self.pg: Any = None
        self.incarnation: dict[int, int] = {}
        self.restarts: dict[int, int] = {}
        self.status: dict[int, dict[str, Any]] = {}
        self.unavailable_since: dict[int, float] = {}
        self.last_mirror = 0.0
        self.run_id = uuid.uuid4().hex  # names the parameter server and the groups' semaphores

    def _start(self) -> None:
        cfg, mirror = self.parts.config, self.mirror
        target = flat.flatten(self.mirror_target) if self.mirror_target is not None else None
        # Named, so groups look it up themselves: a constructor argument held in the object store
        # could be lost before Ray restarts a group.
        self.server_name = f"asyncrl-parameter-server-{self.run_id}"
        self.server = ray.remote(num_cpus=0)(ParameterServer).options(name=self.server_name).remote(
            flat.flatten(self.mirror_params), target, mirror.global_step, mirror.target_sync_count,
            self.parts.target_interval, cfg.total_steps)
        self.pg = placement_group([{"CPU": cfg.workers}] * self.rt.groups, strategy="SPREAD")
        ray.get(self.pg.ready(), timeout=120)
        actor = ray.remote(num_cpus=cfg.workers, max_restarts=self.rt.max_group_restarts, max_task_retries=0)(Group)
        for g in range(self.rt.groups):
            strategy = PlacementGroupSchedulingStrategy(placement_group=self.pg, placement_group_bundle_index=g)
            self.groups.append(actor.options(scheduling_strategy=strategy, name=None).remote(
                self.parts, g, self.run_id, self.server_name, self.start_time, self.generation))
            self.restarts[g] = 0

    def refresh_mirror(self) -> bool:
        """The driver's copy <- the global state; True once the parameter server has stopped the run."""
        state = ray.get(self.server.snapshot.remote())
        flat.load(self.mirror_params, state.params)
        if self.mirror_target is not None and state.target is not None:
            flat.load(self.mirror_target, state.target)
        self.mirror.set_global_step(state.global_step)
        self.mirror.set_target_syncs(state.target_syncs)
        self.last_mirror = time.monotonic()
        return state.stop

    def _collect(self, g: int, out: dict[str, Any]) -> None:
        """One group's drained records to the sink, and a restart recorded as one."""
        self.unavailable_since.pop(g, None)
        known = self.incarnation.get(g)
        if known != out["incarnation"]:
            where = {"group": g, "node": out["node"], "pid": out["pid"], "global_step": self.mirror.global_step}
            if known is not None:
                self.restarts[g] += 1
                self.sink({"type": "group_restart", **where, "restarts": self.restarts[g]})
                killed = self.status[g]  # Ray killed it, so its semaphores are still on its node
                self._on_node(killed["node"], remove_semaphores).remote(killed["semaphore_prefix"])
            self.sink({"type": "group_start", **where, "incarnation": out["incarnation"],
                       "semaphore_prefix": out["semaphore_prefix"], "semaphores": out["semaphores"]})
        if out["worker_pids"] and out["worker_pids"] != self.status.get(g, {}).get("worker_pids"):
            self.sink({"type": "group_workers", "group": g, "pids": out["worker_pids"]})
        self.incarnation[g] = out["incarnation"]
        self.status[g] = out
        for record in out["records"]:
            if self.sink(record):
                self.request_stop()

    def _lost(self, g: int, exc: Exception) -> str | None:
        """A group did not answer: restarting (wait for it) or gone for good (fail the run)."""
        since = self.unavailable_since.setdefault(g, time.monotonic())
        restarting = isinstance(exc, ActorUnavailableError) or self.restarts[g] < self.rt.max_group_restarts
        if restarting and time.monotonic() - since < self.rt.startup_timeout_s:
            return None
        return (f"group {g} is gone after {self.restarts[g]} restart(s) (runtime.max_group_restarts="
                f"{self.rt.max_group_restarts}): {str(exc).splitlines()[0]}")

    def _round(self) -> str | None:
        """Collect every group's records once; a reason to fail the run, if any."""
        live = [g for g in range(len(self.groups)) if not self.status.get(g, {}).get("done")]
        refs = {g: self.groups[g].drain.remote() for g in live}
        for g, ref in refs.items():
            try:
                self._collect(g, ray.get(ref, timeout=60))
            except (RayActorError, ActorUnavailableError, ray.exceptions.GetTimeoutError) as exc:
                error = self._lost(g, exc)
                if error is not None:
                    return error
        return None

    def request_stop(self) -> None:
        """Every group stops at once (and the parameter server tells late ones)."""
        self.server.stop.remote()
        for group in self.groups:
            group.stop.remote()

    def _all_done(self) -> bool:
        return len(self.status) == len(self.groups) and all(s["done"] for s in self.status.values())

    def run(self) -> RunResult:
        """Run until the global budget is spent, a stop, a signal or a lost group; leave nothing running."""
        result = RunResult("finished")
        with StopOnSignal():
            try:
                self._start()
                stopping = False
                while not self._all_done():
                    error = self._round()
                    if error is not None:
                        result = RunResult("failed", error)
                        break
                    if time.monotonic() - self.last_mirror >= MIRROR_S and self.refresh_mirror() and not stopping:
                        stopping = True  # the parameter server saw the budget spent
                    if not stopping and self.should_stop():
                        self.request_stop()
                        stopping = True
                    time.sleep(POLL_S)
            except KeyboardInterrupt:
                result = RunResult("interrupted")
            except (ray.exceptions.RayError, TimeoutError) as exc:  # the cluster failed us (not the run directory)
                result = RunResult("failed", f"Ray: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            finally:
                self._shutdown(result)
        return result

    def _shutdown(self, result: RunResult) -> None:
        """Stop the groups, collect their last records and the global state, then remove every actor."""
        try:
            if self.server is not None:
                self.request_stop()
                deadline = time.monotonic() + self.rt.join_timeout_s
                while result.status != "failed" and not self._all_done() and time.monotonic() < deadline:
                    if self._round() is not None:
                        break
                    time.sleep(POLL_S)
                self.refresh_mirror()
                traffic = ray.get(self.server.traffic.remote())
                self.sink({"type": "parameter_server", "global_step": self.mirror.global_step,
                           "target_syncs": self.mirror.target_sync_count, **traffic,
                           "params_sha256": hashlib.sha256(flat.flatten(self.mirror_params).tobytes()).hexdigest()})
                for g, out in sorted(self.status.items()):
                    self.sink({"type": "group_summary", "group": g, "node": out["node"], "steps": out["steps"],
                               "restarts": self.restarts[g], "bytes_sent": out["bytes_sent"],
                               "bytes_received": out["bytes_received"], "global_step": self.mirror.global_step})
        except (KeyboardInterrupt, RayActorError, ActorUnavailableError, ray.exceptions.GetTimeoutError):
            pass  # a second Ctrl-C, or a group gone: stop waiting
        finally:
            for actor in [*self.groups, self.server]:
                if actor is not None:
                    ray.kill(actor, no_restart=True)
            if self.pg is not None:
                remove_placement_group(self.pg)
            self._remove_semaphores()
            self.cluster.close()

    @staticmethod
    def _on_node(node: str, function: Callable[..., Any]) -> Any:
        """``function`` as a Ray task that runs on ``node`` and nowhere else."""
        return ray.remote(num_cpus=0, max_retries=0)(function).options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False))

    def _remove_semaphores(self) -> None:
        """Remove the run's semaphore files on every live node (Ray killed the groups that made them)."""
        try:
            nodes = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
            ray.get([self._on_node(node, remove_semaphores).remote(run_prefix(self.run_id)) for node in nodes],
                    timeout=30)
        except (ray.exceptions.RayError, TimeoutError):
            pass  # a node lost meanwhile keeps its files (docs/cluster.md: what a run leaves on a node)
