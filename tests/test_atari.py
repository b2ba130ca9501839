"""The Atari stack: gymnasium's preprocessing, learning signals, short runs of all four."""

import functools
import json
from pathlib import Path

import numpy as np
import pytest

from asyncrl import make_config
from asyncrl.envs import make_batch_env, make_env
from tests.conftest import read_jsonl, run_cli


def test_observations_are_uint8_frame_stacks_with_action_repeat_4():
    env = make_env(make_config("env=breakout").env)
    obs, info = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert env.observation_space.shape == (4, 84, 84)
    start = info.get("episode_frame_number")
    obs, _, _, _, info = env.step(1)
    obs, _, _, _, info2 = env.step(0)
    assert info2["episode_frame_number"] - info["episode_frame_number"] == 4
    assert start is not None
    env.close()


def test_sticky_actions_are_off_as_in_the_paper():
    cfg = make_config("env=pong").env
    assert cfg.repeat_action_probability == 0.0
    env = make_env(cfg)
    assert env.unwrapped.ale.getFloat("repeat_action_probability") == 0.0  # the ALE's own setting
    env.close()
    sticky = make_env(make_config("env=pong", "env.repeat_action_probability=0.25").env)
    assert sticky.unwrapped.ale.getFloat("repeat_action_probability") == 0.25
    sticky.close()


def test_vector_env_reports_a_life_lost_on_the_truncating_step(monkeypatch: pytest.MonkeyPatch):
    """ale-py's vector env as built for K > 1, with the game capped at 27 steps (108 frames).

    In this seeded game env 0 loses a life on the very step the cap truncates
    it, env 1 does not: only env 0's step is a terminal for learning, as with
    one env per worker (tests/test_learning_signals.py).
    """
    from ale_py import vector_env

    monkeypatch.setattr(vector_env, "AtariVectorEnv",
                        functools.partial(vector_env.AtariVectorEnv, max_num_frames_per_episode=108))
    envs = make_batch_env(make_config("env=breakout").env, 2)
    envs.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, 4, (27, 2))
    steps = [envs.step(a) for a in actions]
    envs.close()
    last = steps[-1]
    assert last.truncated.tolist() == [True, True] and not last.game_over.any()
    assert last.terminal.tolist() == [True, False]
    assert [s.terminal.tolist() for s in steps[:-1]].count([False, True]) == 1  # env 1 lost its life a step earlier
    assert not any(s.episode_end.any() for s in steps[:-1])


def test_unknown_game_is_one_clear_line(run_dir: Path):
    proc = run_cli("env=atari", "env.game=NoSuchGame", f"hydra.run.dir={run_dir}", timeout=60)
    assert proc.returncode == 2
    assert "env.game='NoSuchGame'" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(("algo", "k"), [("a3c", 1), ("one_step_q", 1), ("one_step_sarsa", 1), ("nstep_q", 1),
                                         ("a3c", 3), ("one_step_sarsa", 3)])
def test_short_breakout_run_of_each_algorithm(run_dir: Path, algo: str, k: int):
    """Each learner on Breakout, with the gymnasium stack (K = 1) and ale-py's vector env (K = 3)."""
    proc = run_cli(f"algo={algo}", "env=breakout", "workers=1", f"envs_per_worker={k}", f"total_steps={1500 * k}",
                   "eval.episodes=1", "eval.max_episode_frames=12000", f"hydra.run.dir={run_dir}", timeout=240)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["env"] == "ALE/Breakout-v5" and summary["status"] == "finished"
    assert summary["frames"] == 4 * summary["global_steps"]
    episodes = [r for r in read_jsonl(run_dir / "metrics.jsonl") if r["type"] == "episode"]
    assert episodes, "a random Breakout game (5 lives) lasts a few hundred steps"
    for record in episodes:
        # Whole games, real (unclipped) scores: integers, and far longer than one life.
        assert float(record["episode_return"]).is_integer() and record["episode_return"] >= 0
        assert record["episode_length"] > 100
        assert record["frames"] == 4 * record["global_step"]
        assert record["env"] in range(k)
    if k > 1:  # every env of a worker plays its own games
        assert len({(r["worker"], r["env"]) for r in episodes}) >= k
    assert (run_dir / "checkpoint.pt").exists()
