"""Observation spaces through env=gym: what flattens trains, the rest is refused in one line naming the real space."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import asyncrl
from asyncrl.build import build_run
from asyncrl.envs import make_env
from tests.conftest import run_cli


class ObservationEnv(gym.Env):
    """A one-step-per-episode env with any observation space (sampled), two actions."""

    def __init__(self, space: gym.Space, render_mode: str | None = None) -> None:
        self.observation_space, self.action_space = space, gym.spaces.Discrete(2)
        self.render_mode = render_mode

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.observation_space.seed(seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), float(action), True, False, {}


SPACES = {
    "asyncrl-test/SequenceObs-v0": gym.spaces.Sequence(gym.spaces.Discrete(3)),
    "asyncrl-test/ImageObs-v0": gym.spaces.Box(0, 255, (8, 8, 3), np.uint8),
    "asyncrl-test/DictObs-v0": gym.spaces.Dict({"pos": gym.spaces.Box(-1, 1, (2,)), "key": gym.spaces.Discrete(3)}),
}
for _id, _space in SPACES.items():
    if _id not in gym.registry:
        gym.register(_id, entry_point=lambda space=_space, **kw: ObservationEnv(space, **kw), max_episode_steps=10)


@pytest.mark.parametrize(("env_id", "size"), [("FrozenLake-v1", 16), ("Taxi-v4", 500), ("Blackjack-v1", 45),
                                              ("asyncrl-test/DictObs-v0", 5)])
def test_flattenable_observations_become_float_vectors(env_id: str, size: int):
    parts = build_run(asyncrl.make_config("algo=nstep_q", "env=gym", f"env.id={env_id}"))
    assert parts.observation_space.shape == (size,) and parts.observation_space.dtype == np.float32
    env = make_env(parts.config.env)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (size,) and obs.dtype == np.float32
    if env_id in ("FrozenLake-v1", "Taxi-v4"):  # a Discrete observation is one-hot
        assert obs.sum() == 1.0 and set(np.unique(obs)) <= {0.0, 1.0}
    env.close()


@pytest.mark.parametrize("algo", ["a3c", "one_step_sarsa"])
def test_toy_tasks_with_discrete_observations_train(tmp_path: Path, algo: str):
    for env_id in ("FrozenLake-v1", "Blackjack-v1"):
        cfg = asyncrl.make_config(f"algo={algo}", "env=gym", f"env.id={env_id}", "runtime=threads", total_steps=1500,
                                  progress="off", eval={"episodes": 2})
        result = asyncrl.train(cfg, tmp_path / env_id.replace("/", "_"))
        assert result.summary["status"] == "finished" and result.summary["episodes"] > 10
        assert result.summary["final_eval_return"] is not None


@pytest.mark.parametrize(("env_id", "message"), [
    ("asyncrl-test/SequenceObs-v0", "an observation space that does not flatten to a vector is not supported by "
                                    "env=gym (needs a vector), got Sequence(Discrete(3), stack=False)"),
    ("asyncrl-test/ImageObs-v0", "image observations are not supported by env=gym (needs a vector), "
                                 "got Box(0, 255, (8, 8, 3), uint8)"),
    ("ALE/Pong-v5", "an Atari game; use env=atari env.game=Pong"),
    ("ale_py:ALE/Breakout-v5", "an Atari game; use env=atari env.game=Breakout"),
])
def test_what_cannot_train_is_refused_naming_the_real_space(env_id: str, message: str):
    with pytest.raises(asyncrl.ConfigError) as info:
        asyncrl.make_config("env=gym", f"env.id={env_id}")
    assert str(info.value).startswith(f"env.id={env_id!r}: {message}")


def test_a_short_atari_run_prints_no_ale_banner(run_dir: Path):
    proc = run_cli("env=breakout", "workers=1", "total_steps=100", "eval.episodes=0", "progress=off",
                   f"hydra.run.dir={run_dir}", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "A.L.E" not in proc.stdout + proc.stderr and "Stella" not in proc.stdout + proc.stderr
