"""Profiles: `profile=paper` is the paper's settings exactly; `profile=fast` (the default) changes only what it
documents; both compose with every algorithm and with the tuned presets; with anneal_over=budget the lr anneals
over the run's time budget too."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest

import asyncrl
from asyncrl.build import build_run
from asyncrl.checkpoint import upgrade_config
from asyncrl.config import to_plain
from asyncrl.optim import LinearDecay

ALGOS = ["a3c", "nstep_q", "one_step_q", "one_step_sarsa"]
# The composed configs of every algorithm on every Atari preset before profiles existed.
BEFORE = json.loads((Path(__file__).parent / "data" / "paper_defaults_atari.json").read_text())


def without_new_keys(config: dict) -> dict:
    """The config less what profiles added and what the evaluation protocol changed (``eval``, tested apart)."""
    config = {k: v for k, v in config.items() if k not in ("profile", "eval")}
    added = ("lr_scaling", "anneal_over", "warmup_steps")
    config["optim"] = {k: v for k, v in config["optim"].items() if k not in added}
    return config


@pytest.mark.parametrize("case", sorted(BEFORE))
def test_profile_paper_reproduces_the_composed_atari_defaults_exactly(case: str):
    algo, env = case.split("/")
    overrides = [f"algo={algo}", f"env={env}", "profile=paper"] + (["env.game=Pong"] if env == "atari" else [])
    cfg = asyncrl.make_config(*overrides)
    # The saved configs are an earlier release's: read them as a resume reads an old checkpoint's.
    assert without_new_keys(to_plain(cfg)) == without_new_keys(upgrade_config(copy.deepcopy(BEFORE[case])))
    assert (cfg.profile, cfg.envs_per_worker, cfg.optim.lr_scaling, cfg.optim.anneal_over) == ("paper", 1, "none",
                                                                                               "steps")
    # The same schedule as before: lr 7e-4 falling linearly to 0 at total_steps, whatever the time limit.
    parts = build_run(asyncrl.make_config(*overrides, time_limit_s=60))
    parts = type(parts)(**{**parts.__dict__, "deadline": 1_000.0})
    schedule = parts.lr_schedule(origin=0.0)
    assert schedule == LinearDecay(7e-4, cfg.total_steps, True, None)


@pytest.mark.parametrize("algo", ALGOS)
def test_profile_fast_is_the_default_and_on_atari_runs_8_envs_with_a_scaled_lr(algo: str):
    parts = build_run(asyncrl.make_config(f"algo={algo}", "env=breakout"))
    cfg = parts.config
    assert (cfg.profile, cfg.envs_per_worker, cfg.optim.lr_scaling, cfg.optim.anneal_over) == ("fast", 8, "sqrt",
                                                                                               "steps")
    assert parts.lr == pytest.approx(7e-4 * math.sqrt(8))  # 1.98e-3
    paper = asyncrl.make_config(f"algo={algo}", "env=breakout", "profile=paper")
    fast = to_plain(cfg)
    fast.update(profile="paper", envs_per_worker=1)
    fast["optim"].update(lr_scaling="none")
    assert fast == to_plain(paper)  # nothing else differs


def test_a_command_line_value_beats_the_profile():
    cfg = asyncrl.make_config("env=pong", "envs_per_worker=4", "optim.anneal_over=budget")
    assert cfg.envs_per_worker == 4 and cfg.optim.anneal_over == "budget"
    assert build_run(cfg).lr == pytest.approx(7e-4 * 2)


@pytest.mark.parametrize("profile", ["paper", "fast"])
@pytest.mark.parametrize("algo", ALGOS)
def test_both_profiles_compose_with_every_algorithm_and_the_tuned_presets(profile: str, algo: str):
    for env in ["cartpole", "breakout", "space_invaders", *(["pendulum", "cartpole_novel"] if algo == "a3c" else [])]:
        cfg = asyncrl.make_config(f"algo={algo}", f"env={env}", f"profile={profile}")
        assert cfg.profile == profile
        if env == "cartpole":  # off Atari one env per worker either way; the tuned preset's lr stands
            tuned = asyncrl.make_config(f"algo={algo}", "profile=paper")
            assert cfg.envs_per_worker == 1 and cfg.optim.lr == tuned.optim.lr == build_run(cfg).lr


def test_off_atari_the_fast_profile_trains_as_the_paper_profile_does():
    fast, paper = (asyncrl.make_config(f"profile={p}", "env=gym", "env.id=Acrobot-v1", "time_limit_s=60") for p in
                   ("fast", "paper"))
    plain = {**to_plain(fast), "profile": "paper"}
    assert plain["optim"].pop("lr_scaling") == "sqrt" and build_run(fast).lr == build_run(paper).lr  # x sqrt(1)
    plain["optim"]["lr_scaling"] = "none"
    assert plain == to_plain(paper)  # the same run, time limit or not


def test_the_lr_reaches_0_when_the_first_budget_runs_out():
    schedule = LinearDecay(1e-3, total_steps=1_000_000, clock=(100.0, 200.0))
    assert schedule(0, now=100.0) == pytest.approx(1e-3)
    assert schedule(10_000, now=150.0) == pytest.approx(0.5e-3)  # half the time gone, 1% of the steps
    assert schedule(900_000, now=110.0) == pytest.approx(0.1e-3)  # 90% of the steps, 10% of the time
    assert schedule(10, now=250.0) == 0.0
    assert LinearDecay(1e-3, 1_000_000)(500_000) == pytest.approx(0.5e-3)  # steps alone: the paper


def test_a_run_on_a_time_budget_anneals_its_lr_by_the_clock(tmp_path: Path):
    cfg = asyncrl.make_config("runtime=threads", "workers=1", "optim.anneal_over=budget", total_steps=50_000_000,
                              time_limit_s=3, stop_when_solved=False, progress="off", eval={"episodes": 0},
                              runtime={"report_interval_s": 0.2})
    asyncrl.train(cfg, tmp_path / "run")
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    lrs = [(r["global_step"], r["train/lr"]) for r in records if "train/lr" in r]
    step, lr = lrs[-1]
    by_steps = cfg.optim.lr * (1 - step / cfg.total_steps)  # what the paper's schedule would give here
    assert len(lrs) >= 3 and lr < 0.8 * by_steps and [x for _, x in lrs] == sorted((x for _, x in lrs), reverse=True)
