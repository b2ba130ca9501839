"""Per-worker epsilon schedules (paper section 5.1)."""

import numpy as np
import pytest

from asyncrl.learners.exploration import EpsilonSchedule, sample_final_epsilon


def test_linear_anneal_start_mid_end():
    schedule = EpsilonSchedule(final=0.1, anneal_steps=1000)
    assert schedule(0) == pytest.approx(1.0)
    assert schedule(500) == pytest.approx(0.55)
    assert schedule(1000) == pytest.approx(0.1)
    assert schedule(10_000) == pytest.approx(0.1)


def test_final_epsilons_follow_the_configured_distribution():
    rng = np.random.default_rng(123)
    finals = [sample_final_epsilon(rng, [0.1, 0.01, 0.5], [0.4, 0.3, 0.3]) for _ in range(20_000)]
    values, counts = np.unique(finals, return_counts=True)
    shares = dict(zip(values.tolist(), (counts / len(finals)).tolist(), strict=False))
    assert shares == pytest.approx({0.01: 0.3, 0.1: 0.4, 0.5: 0.3}, abs=0.015)


def test_workers_get_different_finals_from_their_seeds():
    from asyncrl.runtime.runner import worker_seeds

    seeds = worker_seeds(0, 16)
    assert len(set(seeds)) == 16
    finals = {sample_final_epsilon(np.random.default_rng(s), [0.1, 0.01, 0.5], [0.4, 0.3, 0.3]) for s in seeds}
    assert len(finals) > 1
    assert worker_seeds(0, 16) == seeds  # derived from the run seed, reproducibly
