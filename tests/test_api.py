"""The Python API in-process: make_config, train (both runtimes), Agent.load / act / evaluate."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

import asyncrl
from asyncrl.build import build_run, compose, finalize, schema_for
from asyncrl.checkpoint import load_checkpoint
from asyncrl.config import to_plain
from asyncrl.learners import A3CConfig, NStepQConfig
from tests.conftest import ROOT, read_jsonl, run_cli

SHORT = {"total_steps": 2000, "stop_when_solved": False, "progress": "off", "eval": {"episodes": 2}}


def test_make_config_composes_presets_and_keywords():
    cfg = asyncrl.make_config("algo=nstep_q", "env=cartpole", workers=3, optim={"lr": 1e-3}, **{"algo.t_max": 7})
    assert cfg.workers == 3 and cfg.optim.lr == 1e-3 and cfg.algo.t_max == 7
    assert cfg.algo.target_interval == 1000  # conf/tuned/nstep_q_cartpole.yaml applied, as on the CLI
    assert OmegaConf.get_type(cfg.algo) is NStepQConfig
    with pytest.raises(Exception, match="workers"):
        cfg.workers = "many"  # typed: a wrong type is refused on assignment too


@pytest.mark.parametrize(("overrides", "kw", "message"), [
    (["+foo=1"], {}, "foo: not a config option"),
    (["++algo.no_such_key=1"], {}, "algo.no_such_key: not a config option"),
    (["algo.no_such_key=1"], {}, "algo.no_such_key: not a config option"),
    ([], {"optim": {"nope": 1}}, "optim.nope: not a config option"),
    (["algo=foo"], {}, "algo='foo': no such option"),
    (["optim=adam"], {}, "optim='adam': no such option"),
    ([], {"workers": "two"}, "workers"),
    ([], {"workers": 0}, "workers=0: must be >= 1"),
    (["algo=nstep_q", "algo.eps_probs=[0.5,0.6,0.3]"], {}, "algo.eps_probs"),
    (["env=gym", "env.id=NoSuchEnv-v0"], {}, "env.id='NoSuchEnv-v0'"),
    (["algo=nstep_q", "env=pendulum"], {}, "needs a discrete action space"),
    (["model.separate_value=true"], {}, "model.separate_value"),
    (["env=atari"], {}, "env.game: no value given"),
    (["seed=0,1"], {}, "a sweep needs -m"),
    (["resume=/nonexistent/run"], {}, "resume="),
])
def test_bad_input_raises_one_line_config_error(overrides: list[str], kw: dict, message: str):
    with pytest.raises(asyncrl.ConfigError) as info:
        asyncrl.make_config(*overrides, **kw)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_key_a_preset_file_adds_is_refused_too():
    cfg = asyncrl.make_config()
    plain = to_plain(cfg)
    plain["algo"]["entropy_betta"] = 0.1  # what a preset file with a typo would merge in
    with pytest.raises(asyncrl.ConfigError, match=r"^algo\.entropy_betta: not a config option"):
        finalize(plain)


@pytest.mark.parametrize("group", ["env", "algo"])
def test_every_key_a_schema_declares_can_be_set_on_any_option_without_a_plus(group: str):
    # Each option composes on top of its schema, so `env.solved_return=-100` works with env=gym
    # although gym.yaml does not name it.
    for option in sorted(p.stem for p in (ROOT / "conf" / group).glob("*.yaml")):
        needs = {"gym": ["env.id=Acrobot-v1"], "atari": ["env.game=Pong"]}.get(option, [])
        cfg = compose([f"{group}={option}", *needs])
        declared = set(OmegaConf.to_container(schema_for(cfg)[group]))
        assert declared <= set(cfg[group]), f"{group}={option} lacks {sorted(declared - set(cfg[group]))}"
    cfg = compose(["env=gym", "env.id=Acrobot-v1", "env.solved_return=-100", "env.reward_scale=0.5"])
    assert (cfg.env.solved_return, cfg.env.reward_scale) == (-100, 0.5)


def test_learners_receive_typed_configs():
    parts = build_run(asyncrl.make_config())
    learner = parts.learner(parts.network(), np.random.default_rng(0))
    assert isinstance(learner.cfg, A3CConfig) and learner.cfg.t_max == 5


def test_the_cli_and_make_config_give_the_same_config(run_dir: Path):
    overrides = ["algo=one_step_q", "workers=1", "total_steps=300", "eval.episodes=0", "optim=sgd_momentum",
                 "seed=3", "optim.lr='${loguniform:1e-4,1e-2,${seed}}'"]
    proc = run_cli(*overrides, f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    cli_config = json.loads((run_dir / "summary.json").read_text())["config"]
    assert cli_config == to_plain(asyncrl.make_config(*overrides))


@pytest.mark.parametrize("runtime", ["threads", "processes"])
def test_train_in_process_returns_run_dir_summary_and_agent(tmp_path: Path, runtime: str):
    cfg = asyncrl.make_config(f"runtime={runtime}", **SHORT)
    torch.set_num_threads(3)
    torch.manual_seed(123)
    random.seed(5)
    np.random.seed(7)
    before = torch.get_rng_state(), random.getstate(), np.random.get_state()[1].copy()

    result = asyncrl.train(cfg, tmp_path / "run")

    assert torch.get_num_threads() == 3  # the caller's process settings are as they were
    assert torch.equal(torch.get_rng_state(), before[0]) and random.getstate() == before[1]
    assert np.array_equal(np.random.get_state()[1], before[2])
    assert result.run_dir == tmp_path / "run"
    assert result.summary == json.loads((result.run_dir / "summary.json").read_text())
    assert result.summary["status"] == "finished" and result.summary["runtime"] == runtime
    assert result.summary["optim"] == "rmsprop_shared"  # the option chosen (the default), under its own name
    assert 2000 <= result.summary["global_steps"] < 2010
    assert {r["worker"] for r in read_jsonl(result.run_dir / "metrics.jsonl") if r["type"] == "episode"} == {0, 1}
    assert (result.run_dir / ".hydra" / "config.yaml").exists() and (result.run_dir / "checkpoint.pt").exists()
    assert result.agent.global_step == result.summary["global_steps"]
    saved = load_checkpoint(result.run_dir / "checkpoint.pt")["model"]
    assert all(torch.equal(result.agent.model.state_dict()[k], v) for k, v in saved.items())


def test_train_resumes_from_make_config(tmp_path: Path):
    first = asyncrl.train(asyncrl.make_config("runtime=threads", **SHORT), tmp_path / "run")
    more = asyncrl.make_config(f"resume={first.run_dir}", total_steps=4000)
    assert more.resume == str(first.run_dir) and more.total_steps == 4000
    second = asyncrl.train(more)
    assert second.run_dir == first.run_dir
    summary = second.summary
    assert summary["resumes"] == 1 and 4000 <= summary["global_steps"] < 4010
    # Every figure covers both sessions, so they agree with each other.
    assert summary["steps_per_s"] == pytest.approx(summary["global_steps"] / summary["wall_s"])
    assert summary["steps_per_s_running"] == pytest.approx(
        summary["global_steps"] / (summary["wall_s"] - summary["startup_s"]))


@pytest.fixture(scope="module")
def lstm_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("lstm") / "run"
    asyncrl.train(asyncrl.make_config("runtime=threads", "model.lstm=true", "model.lstm_size=16", workers=1,
                                      total_steps=500, progress="off", eval={"episodes": 0}), run)
    return run


def test_agent_load_acts_on_a_batch_and_carries_the_lstm_state(lstm_run: Path):
    agent = asyncrl.Agent.load(lstm_run)
    assert agent.config.model.lstm and agent.global_step >= 500
    obs = np.random.default_rng(0).normal(size=(5, 4, 4)).astype(np.float32)  # 5 steps of a batch of 4
    state, actions = None, []
    for t in range(5):
        acted, state = agent.act(obs[t], state, deterministic=True)
        assert acted.shape == (4,) and acted.dtype == np.int64
        actions.append(acted)
    # The same as the network unrolled over the sequence from the zero state.
    with torch.no_grad():
        logits, _, _ = agent.model.unroll(torch.from_numpy(obs), agent.model.initial_state(4))
    assert np.array_equal(np.stack(actions), logits.argmax(-1).numpy())
    fresh, _ = agent.act(obs[4], None, deterministic=True)
    assert np.array_equal(fresh, logits[0].argmax(-1).numpy()) or not np.array_equal(fresh, actions[4])


def test_agent_load_from_a_checkpoint_file_and_evaluate(lstm_run: Path):
    agent = asyncrl.Agent.load(lstm_run / "checkpoint.pt")
    report = agent.evaluate(episodes=3, seed=4, max_episode_frames=20)
    assert set(report) >= {"checkpoint_step", "episodes", "epsilon", "seed", "returns", "lengths", "mean", "std"}
    assert len(report["returns"]) == 3 and all(n <= 20 for n in report["lengths"])
    assert report["mean"] == pytest.approx(sum(report["returns"]) / 3)
    assert agent.evaluate(episodes=3, seed=4, max_episode_frames=20) == report  # seeded: the same episodes


def test_a_value_agent_explores_only_when_not_deterministic():
    parts = build_run(asyncrl.make_config("algo=nstep_q"))
    agent = asyncrl.Agent(parts, parts.network(), seed=0)
    obs = np.zeros((2000, 4), dtype=np.float32)  # one state: the greedy action is the same everywhere
    greedy, state = agent.act(obs, deterministic=True)
    assert state is None and len(set(greedy.tolist())) == 1
    sampled, _ = agent.act(obs)
    off = np.mean(sampled != greedy[0])  # epsilon 0.05, half of its random actions differ from the greedy one
    assert 0.01 < off < 0.05


def test_agent_load_refuses_a_bad_path_and_a_bad_batch(tmp_path: Path, lstm_run: Path):
    with pytest.raises(asyncrl.CheckpointError, match="no such checkpoint"):
        asyncrl.Agent.load(tmp_path)
    with pytest.raises(ValueError, match=r"obs must have shape \[B, 4\]"):
        asyncrl.Agent.load(lstm_run).act(np.zeros((2, 3), dtype=np.float32))


def test_the_documented_example_runs_as_a_script(tmp_path: Path):
    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    (tmp_path / "example.py").write_text(re.findall(r"```python\n(.*?)```", page, flags=re.S)[0])
    proc = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    status, steps, _ = proc.stdout.splitlines()[0].split()
    assert status in ("finished", "solved") and int(steps) > 0
    assert json.loads((tmp_path / "runs" / "nstep_q_cartpole" / "summary.json").read_text())["status"] == status


@pytest.mark.parametrize("name", ["checkpoint_v1_a3c_lstm_cartpole.pt", "checkpoint_v1_nstep_q_cartpole.pt"])
def test_checkpoints_of_the_current_format_written_before_the_registry_still_load_and_resume(tmp_path: Path,
                                                                                          name: str):
    saved = ROOT / "tests" / "data" / name  # written by the release before the algorithm registry
    agent = asyncrl.Agent.load(saved)
    assert agent.global_step > 300 and len(agent.evaluate(episodes=1, max_episode_frames=30)["returns"]) == 1
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(saved.read_bytes())
    result = asyncrl.train(asyncrl.make_config(f"resume={run}", "runtime.kind=threads", total_steps=600))
    assert result.summary["resumes"] == 1 and result.summary["global_steps"] >= 600
