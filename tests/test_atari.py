"""The Atari stack: gymnasium's preprocessing, learning signals, short runs of all four."""

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from asyncrl.envs import make_env
from asyncrl.envs.atari import LearningSignals
from tests.conftest import make_config, read_jsonl, run_cli


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


class _Scripted(gym.Env):
    """Rewards and lives from a script, to check LearningSignals by hand."""

    observation_space = gym.spaces.Box(0, 1, (1,))
    action_space = gym.spaces.Discrete(2)

    def __init__(self):
        self.script = [(5.0, 3, False), (-3.0, 2, False), (0.5, 2, False), (2.0, 0, True)]
        self.t = 0

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return np.zeros(1, np.float32), {"lives": 3}

    def step(self, action):
        reward, lives, done = self.script[self.t]
        self.t += 1
        return np.zeros(1, np.float32), reward, done, False, {"lives": lives}


def test_rewards_clipped_for_learning_real_score_kept_and_life_loss_flagged():
    env = LearningSignals(_Scripted(), clip=1.0, life_loss_terminal=True)
    env.reset()
    steps = [env.step(0) for _ in range(4)]
    assert [s[1] for s in steps] == [1.0, -1.0, 0.5, 1.0]
    assert [s[4]["raw_reward"] for s in steps] == [5.0, -3.0, 0.5, 2.0]
    # A life lost mid-game is flagged; the game over itself is a real terminal instead.
    assert [s[4]["life_lost"] for s in steps] == [False, True, False, False]
    assert [s[2] for s in steps] == [False, False, False, True]
    unclipped = LearningSignals(_Scripted(), clip=None, life_loss_terminal=False)
    unclipped.reset()
    assert [unclipped.step(0)[4]["life_lost"] for _ in range(2)] == [False, False]


def test_unknown_game_is_one_clear_line(run_dir: Path):
    proc = run_cli("env=atari", "env.game=NoSuchGame", f"hydra.run.dir={run_dir}", timeout=60)
    assert proc.returncode == 2
    assert "env.game='NoSuchGame'" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(("algo", "k"), [("a3c", 1), ("one_step_q", 1), ("one_step_sarsa", 1), ("nstep_q", 1),
                                         ("a3c", 3), ("one_step_sarsa", 3)])
def test_short_breakout_run_of_each_algorithm(run_dir: Path, algo: str, k: int):
    """Each learner on Breakout, with the gymnasium stack (K = 1) and ale-py's vector env (K = 3)."""
    proc = run_cli(f"algo={algo}", "env=breakout", "workers=2", f"envs_per_worker={k}", f"total_steps={1500 * k}",
                   "eval.episodes=1", "eval.max_episode_steps=3000", f"hydra.run.dir={run_dir}", timeout=240)
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
