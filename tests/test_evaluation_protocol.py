"""The evaluation protocol: episodes bounded in game time, a short run evaluated briefly, progress printed as
it goes, and the documented policy (A3C samples from its policy; the value-based methods act with epsilon 0.05)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import asyncrl
from asyncrl.build import build_run

NEVER_ENDING = "asyncrl-test/NeverEnding-v0"


class NeverEnding(gym.Env):
    """Never ends by itself (no time limit either); pays 1 for action 0, so a return counts the 0s played."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, render_mode: str | None = None) -> None:
        self.render_mode = render_mode

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(4, np.float32), {}

    def step(self, action):
        return np.zeros(4, np.float32), float(action == 0), False, False, {}


if NEVER_ENDING not in gym.registry:
    gym.register(NEVER_ENDING, entry_point=NeverEnding)


def agent_for(algo: str) -> asyncrl.Agent:
    """A freshly initialised agent (global step 0) on the never-ending env."""
    parts = build_run(asyncrl.make_config(f"algo={algo}", "env=gym", f"env.id={NEVER_ENDING}"))
    torch.manual_seed(0)
    return asyncrl.Agent(parts, parts.network(), seed=0)


def test_an_episode_that_never_ends_stops_at_the_game_time_bound():
    agent = agent_for("a3c")
    result = agent.play(agent.plan(episodes=3, max_episode_frames=50, max_steps=10_000))
    assert result.lengths == [50, 50, 50] and result.truncated == [True, True, True]
    assert not result.stopped_early and result.planned == 3


def test_the_bound_is_game_time_5_minutes_of_atari_by_default():
    parts = build_run(asyncrl.make_config("env=breakout"))
    agent = asyncrl.Agent(parts, parts.network())
    plan = agent.plan()
    assert (plan.max_episode_frames, plan.max_episode_steps) == (18_000, 4_500)  # 5 min at 60 frames/s; 4 per step
    assert plan.describe() == ("up to 10 episodes of at most 18,000 frames (4,500 steps) each, no new one after "
                               "4,500 steps in all; actions sampled from the policy")
    assert agent_for("a3c").plan(max_episode_frames=500).max_episode_steps == 500  # one frame per step


def test_a_short_run_gets_a_short_evaluation():
    agent = agent_for("nstep_q")
    agent.global_step = 120  # as many steps as the agent trained: episodes start at 0, 50 and 100 steps
    result = agent.play(agent.plan(episodes=10, max_episode_frames=50))
    assert result.lengths == [50, 50, 50] and result.stopped_early
    agent.global_step = 0  # an untrained agent still plays one whole (bounded) episode
    assert agent.play(agent.plan(episodes=10, max_episode_frames=50)).lengths == [50]


def test_value_methods_evaluate_epsilon_greedily_with_epsilon_0_05():
    agent = agent_for("nstep_q")
    greedy = agent.play(agent.plan(1, deterministic=True, max_episode_frames=4000)).returns[0]
    assert greedy in (0.0, 4000.0)  # one state: the greedy action never changes
    plan = agent.plan(1, max_episode_frames=4000)
    assert plan.policy == "epsilon-greedy actions with epsilon 0.05"
    played = agent.play(plan).returns[0]
    # A uniform action with probability 0.05, the other of two actions half of those times: 100 expected.
    assert 60 <= abs(played - greedy) <= 140


def test_a3c_evaluates_by_sampling_from_its_policy():
    agent = agent_for("a3c")
    with torch.no_grad():
        p0 = float(torch.softmax(agent.model(torch.zeros(1, 4))[0], dim=-1)[0, 0])
    greedy = agent.play(agent.plan(1, deterministic=True, max_episode_frames=4000)).returns[0]
    assert greedy == (4000.0 if p0 > 0.5 else 0.0)
    played = agent.play(agent.plan(1, max_episode_frames=4000)).returns[0]
    assert abs(played - 4000 * p0) <= 4 * math.sqrt(4000 * p0 * (1 - p0))  # binomial, 4 standard deviations


def test_a_runs_final_evaluation_prints_each_episode_and_stays_short(tmp_path: Path, capsys):
    cfg = asyncrl.make_config("env=gym", f"env.id={NEVER_ENDING}", "runtime=threads", workers=1, total_steps=200,
                              progress="log", eval={"episodes": 3, "max_episode_frames": 100})
    result = asyncrl.train(cfg, tmp_path / "run")
    out = capsys.readouterr().out
    steps = result.summary["global_steps"]
    assert (f"evaluating: up to 3 episodes of at most 100 frames (100 steps) each, no new one after {steps:,} "
            f"steps in all; actions sampled from the policy") in out
    lines = [line for line in out.splitlines() if line.startswith("eval episode")]
    played = math.ceil(steps / 100)  # no new episode once the run's own step count is played
    assert len(lines) == played < 3
    assert all(line.startswith(f"eval episode {i + 1}/3: return ") and
               line.endswith(" in 100 steps (cut off at the game-time bound)") for i, line in enumerate(lines))
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    final = [r for r in records if r["type"] == "eval"][-1]
    assert final["eval/lengths"] == [100] * played and final["eval/stopped_early"] is True
    assert final["eval/planned_episodes"] == 3 and final["eval/cut_off"] == [True] * played


def test_progress_off_prints_no_evaluation_lines(tmp_path: Path, capsys):
    cfg = asyncrl.make_config("env=gym", f"env.id={NEVER_ENDING}", "runtime=threads", workers=1, total_steps=100,
                              progress="off", eval={"episodes": 2, "max_episode_frames": 20})
    asyncrl.train(cfg, tmp_path / "run")
    assert "eval episode" not in capsys.readouterr().out


@pytest.mark.parametrize("name", ["checkpoint_v1_a3c_lstm_cartpole.pt", "checkpoint_v1_nstep_q_cartpole.pt"])
def test_an_older_runs_evaluation_settings_keep_their_meaning(name: str):
    agent = asyncrl.Agent.load(Path(__file__).parent / "data" / name)
    # It capped episodes at 10,000 agent steps and played greedily.
    assert agent.config.eval.max_episode_frames == 10_000 and agent.config.eval.deterministic is True
