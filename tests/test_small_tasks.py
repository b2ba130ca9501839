"""Small vector tasks (every env but Atari) get settings for an MLP; Atari keeps the paper's settings exactly.

The small-task values sit beside the Atari ones in each option's YAML as ``${if_atari:ATARI,SMALL}``;
schedule lengths are a fraction of the run (``${of_total_steps:FRACTION}``) unless set in steps.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import asyncrl
from asyncrl.build import build_run, compose, finalize
from asyncrl.config import to_plain

ROOT = Path(__file__).resolve().parents[1]
VALUE_ALGOS = ["nstep_q", "one_step_q", "one_step_sarsa"]
ALGOS = ["a3c", *VALUE_ALGOS]
# Every algorithm on every Atari preset, under both profiles, composed before small-task settings existed.
ATARI = json.loads((ROOT / "tests" / "data" / "atari_configs.json").read_text())


def small(algo: str, *overrides: str):
    return asyncrl.make_config(f"algo={algo}", "env=gym", "env.id=Acrobot-v1", *overrides)


def flat(node: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in node.items():
        out.update(flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return out


@pytest.mark.parametrize("case", sorted(ATARI))
def test_the_atari_configuration_is_unchanged(case: str):
    algo, env, profile = case.split("/")
    overrides = [f"algo={algo}", f"env={env}", f"profile={profile}"] + (["env.game=Pong"] if env == "atari" else [])
    assert to_plain(finalize(compose(overrides))) == ATARI[case]  # composed and validated (no env built)


@pytest.mark.parametrize("algo", VALUE_ALGOS)
def test_epsilon_anneals_over_a_tenth_of_the_run_on_small_tasks_and_over_4m_frames_on_atari(algo: str):
    for total in (50_000, 2_000_000):
        cfg = small(algo, f"total_steps={total}")
        assert cfg.algo.eps_anneal == total // 10
        parts = build_run(cfg)
        learner = parts.learner(parts.network(), np.random.default_rng(0))
        assert learner.epsilon(0) == 1.0  # explores, then exploits:
        assert learner.epsilon(total) == pytest.approx(learner.epsilon.final) and learner.epsilon.final <= 0.05
        assert asyncrl.make_config(f"algo={algo}", "env=breakout", f"total_steps={total}").algo.eps_anneal == 1_000_000


@pytest.mark.parametrize("algo", VALUE_ALGOS)
def test_a_schedule_length_given_in_steps_stands(algo: str):
    assert small(algo, "algo.eps_anneal=12345", "total_steps=2000000").algo.eps_anneal == 12345
    fraction = small(algo, "algo.eps_anneal=${of_total_steps:0.5}", "total_steps=100000")
    assert fraction.algo.eps_anneal == 50_000


@pytest.mark.parametrize("algo", ALGOS)
def test_the_lr_anneals_to_zero_at_the_end_of_a_small_run(algo: str):
    parts = build_run(small(algo, "total_steps=40000"))
    schedule = parts.lr_schedule(origin=0.0)
    assert schedule(0) == pytest.approx(parts.lr) and schedule(40_000) == 0.0


@pytest.mark.parametrize("algo", ALGOS)
def test_every_small_task_departure_from_the_atari_settings_is_documented(algo: str):
    atari = flat(to_plain(asyncrl.make_config(f"algo={algo}", "env=breakout")))
    vector = flat(to_plain(small(algo)))
    departures = {k for k in atari if k.split(".")[0] in ("algo", "optim", "model") and atari[k] != vector.get(k)}
    text = (ROOT / "docs" / "algorithms.md").read_text()
    section = re.search(r"^## Small vector tasks.*?(?=^## )", text, re.S | re.M)
    assert section, "docs/algorithms.md has no 'Small vector tasks' section"
    undocumented = sorted(k for k in departures if f"`{k}`" not in section.group(0))
    assert not undocumented, f"departures missing from docs/algorithms.md: {undocumented}"


# Task presets: env=gym with the task's id and threshold, plus what the three-seed runs measured
# for one algorithm there (docs/results.md). The schedules follow the preset's budget.
TASK_PRESETS = {
    "lunar_lander": ("LunarLander-v3", 200, {
        "one_step_q": {"optim.lr": (3e-3, 1e-3), "total_steps": (300_000, 500_000),
                       "algo.eps_anneal": (30_000, 50_000)},
        "nstep_q": {"algo.t_max": (20, 5), "total_steps": (300_000, 500_000), "algo.eps_anneal": (30_000, 50_000)},
    }),
    "acrobot": ("Acrobot-v1", -100, {
        "one_step_sarsa": {"total_steps": (300_000, 500_000), "algo.eps_anneal": (30_000, 125_000)},
    }),
}


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("preset", sorted(TASK_PRESETS))
def test_a_task_preset_is_env_gym_plus_what_was_measured_for_its_algorithm(preset: str, algo: str):
    env_id, threshold, tuned = TASK_PRESETS[preset]
    composed = flat(to_plain(asyncrl.make_config(f"algo={algo}", f"env={preset}")))
    generic = flat(to_plain(asyncrl.make_config(f"algo={algo}", "env=gym", f"env.id={env_id}",
                                                f"env.solved_return={threshold}")))
    differ = {k: (generic.get(k), composed[k]) for k in composed if composed[k] != generic.get(k)}
    assert differ == {"env.name": ("gym", preset), **tuned.get(algo, {})}
