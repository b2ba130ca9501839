"""The solved criterion: one function for the run's own check and for the scripts that recompute it."""

import numpy as np
import pytest

from asyncrl.metrics import EpisodeStats, Progress, solved_at


def test_solved_at_is_the_first_full_window_whose_mean_reaches_the_threshold():
    returns = [10.0 * i for i in range(30)]  # means of 5: 20 at index 4, then +10 per episode
    assert solved_at(returns, 5, 100.0) == 12
    assert solved_at(returns, 5, 20.0) == 4  # a full window first: never before index window - 1
    assert solved_at(returns, 5, 1000.0) is None
    assert solved_at(returns[:4], 5, 0.0) is None  # fewer episodes than the window


@pytest.mark.parametrize("window", [3, 20, 130])
def test_the_in_run_check_solves_at_the_episode_solved_at_names(window: int):
    returns = np.random.default_rng(window).normal(size=600).cumsum() * 0.37
    # The best window's own mean: reached exactly once, so both must do the same arithmetic.
    threshold = float(np.lib.stride_tricks.sliding_window_view(returns, window).mean(axis=1).max())
    stats = EpisodeStats(window, threshold)
    first = None
    for i, episode_return in enumerate(returns):
        stats.add(float(episode_return))
        if first is None and stats.solved:
            first = i
    assert first is not None and first == solved_at(returns, window, threshold)


def test_no_solved_return_is_never_solved():
    stats = EpisodeStats(2, None)
    for r in (1e9, 1e9):
        stats.add(r)
    assert not stats.solved


def test_the_logged_eta_is_at_most_the_time_left_of_a_time_limited_run(capsys):
    progress = Progress(total_steps=1_000_000_000, mode="log", log_every_s=0.0, time_limit_s=160.0)
    progress.start -= 100.0  # 100 s in, at 10 steps/s: the step budget alone would take 1e8 s more
    progress.update(1000, 1.0)
    eta = float(capsys.readouterr().out.split("ETA ")[1].split(" s")[0].replace(",", ""))
    assert 59.0 <= eta <= 60.0
