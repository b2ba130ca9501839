"""Hogwild mechanics with two workers, checked without chance.

Two real actor-learners (envs, local networks, learners, optimizers) share
one :class:`SharedState` and take their segments in a fixed order in this
process. Every update must land on the shared parameters exactly as the
optimizer says, through statistics that are shared only when configured, and
each worker must act with the parameters the other one left. How Hogwild
interleaves updates when workers run concurrently varies from run to run;
that two workers learn, and how often, is measured in benchmarks
(docs/results.md), not here.
"""

from __future__ import annotations

import queue
import time
from pathlib import Path

import pytest
import torch

import asyncrl
from asyncrl.build import build_run
from asyncrl.runtime.runner import worker_seeds
from asyncrl.runtime.shared import create_shared_state
from asyncrl.runtime.worker import ActorLearner, WorkerSpec

# Which worker takes the next segment: both, unevenly, neither strictly alternating.
TURNS = [0, 1, 1, 0, 1, 0, 0, 0, 1, 1]


def two_workers(*overrides: str):
    parts = build_run(asyncrl.make_config("workers=2", "runtime=threads", *overrides))
    shared = create_shared_state(parts)
    records: queue.Queue = queue.Queue()
    seeds = worker_seeds(parts.config.seed, 2)
    workers = [ActorLearner(WorkerSpec(k, seeds[k], parts, time.time(), None), shared, records) for k in (0, 1)]
    return parts, shared, workers


@pytest.mark.parametrize("algo", ["a3c", "nstep_q", "one_step_sarsa"])
@pytest.mark.parametrize("optim", ["rmsprop_shared", "rmsprop", "sgd_momentum"])
def test_each_workers_update_lands_on_the_shared_parameters(algo: str, optim: str):
    target = [] if algo == "a3c" else ["algo.target_interval=7"]
    parts, shared, workers = two_workers(f"algo={algo}", f"optim={optim}", *target)
    initial = [p.clone() for p in shared.model.parameters()]
    applied: list[tuple[int, list[torch.Tensor], float]] = []
    for k, worker in enumerate(workers):
        step = worker.optimizer.step

        def recording(grads, lr, k=k, step=step):
            applied.append((k, [g.clone() for g in grads], lr))
            step(grads, lr)

        worker.optimizer.step = recording

    global_step = 0
    for turn in TURNS:
        before = [p.clone() for p in shared.model.parameters()]
        global_step = workers[turn].step(global_step)
        # It acted with the shared parameters as the other worker had left them.
        assert all(torch.equal(local, b) for local, b in zip(workers[turn].local_params, before, strict=True))

    assert [k for k, _, _ in applied] == TURNS  # every segment gave one update, none skipped
    # Replay the same gradients, in the same order, on a private copy: statistics shared by both
    # workers (rmsprop_shared) or one set per worker (rmsprop, sgd_momentum's momentum).
    replica = [p.clone() for p in initial]
    if parts.config.optim.shared_stats:
        stats = [torch.zeros_like(p) for p in replica]
        optimizers = [parts.optimizer(replica, stats)] * 2
    else:
        optimizers = [parts.optimizer(replica, None) for _ in workers]
    for k, grads, lr in applied:
        optimizers[k].step(grads, lr)
    assert all(torch.equal(p, r) for p, r in zip(shared.model.parameters(), replica, strict=True))
    assert not all(torch.equal(p, i) for p, i in zip(shared.model.parameters(), initial, strict=True))
    if parts.config.optim.shared_stats:
        assert all(torch.equal(s, r) for s, r in zip(shared.optim_state, stats, strict=True))

    assert shared.global_step == global_step == sum(w.my_steps for w in workers)
    if shared.target is not None:  # one sync per crossed multiple of target_interval, whoever crossed it
        assert shared.target_syncs.value == global_step // 7


def test_no_worker_steps_before_every_worker_is_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Worker 1 is slow to build; worker 0, built at once, must wait for it rather than spend the budget."""
    steps_when_built: dict[int, int] = {}
    build = ActorLearner.__init__

    def slow_build(self, spec, shared, records):
        if spec.worker_id == 1:
            time.sleep(1.0)
        build(self, spec, shared, records)
        steps_when_built[spec.worker_id] = shared.global_step

    monkeypatch.setattr(ActorLearner, "__init__", slow_build)
    cfg = asyncrl.make_config("runtime=threads", workers=2, total_steps=3000, stop_when_solved=False, progress="off",
                              eval={"episodes": 0})
    result = asyncrl.train(cfg, tmp_path / "run")
    assert steps_when_built == {0: 0, 1: 0}
    assert result.summary["status"] == "finished"
