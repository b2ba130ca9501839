"""The analysis tools (asyncrl.analysis) and the benchmark scripts on synthetic run directories, so they cannot
rot."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import yaml

import asyncrl
from asyncrl.analysis import robustness, scaling
from asyncrl.analysis.curves import draw_panel
from asyncrl.analysis.runs import find_runs, load_episodes, load_run, shared_description
from tests.conftest import ROOT

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def fake_run(path: Path, returns: list[float], *, algo: str = "a3c", seed: int = 0, workers: int = 2,
             env: str = "CartPole-v1", step: int = 100, wall: float = 0.1, optim: dict[str, Any] | None = None,
             summary: dict[str, Any] | None = None, record_config: bool = False,
             config_extra: dict[str, Any] | None = None) -> None:
    """A run directory: episode i ends at global step ``step * (i + 1)`` and ``wall * i`` seconds."""
    config = {"algo": {"name": algo}, "env": {"name": env.lower(), "solved_window": 20}, "workers": workers,
              "seed": seed, "optim": optim or {"name": "rmsprop", "lr": 7e-4, "shared_stats": True},
              **(config_extra or {})}
    (path / ".hydra").mkdir(parents=True)
    (path / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    episodes = [{"type": "episode", "global_step": step * (i + 1), "frames": 4 * step * (i + 1), "wall_s": wall * i,
                 "worker": i % 2, "episode_return": float(r), "episode_length": 10} for i, r in enumerate(returns)]
    other = [{"type": "train", "worker": 0, "global_step": 50, "train/lr": 7e-4, "wall_s": 0.0},
             {"type": "progress", "global_step": 60, "rollout/return_mean": 1.0, "wall_s": 0.0}]
    (path / "metrics.jsonl").write_text("\n".join(json.dumps(e) for e in other + episodes) + "\n")
    full = {"algo": algo, "env": env, "workers": workers, "seed": seed, "steps_per_s": 1000.0 + seed,
            "solved_at_step": None, "solved_wall_s": None, "final_eval_return": None, **(summary or {})}
    if record_config:
        full["config"] = config
    (path / "summary.json").write_text(json.dumps(full))


def command(name: str) -> list[str]:
    """How to run a tool of asyncrl.analysis (``compare.py``: ``python -m asyncrl.analysis.compare``) or a script of
    benchmarks/."""
    tool = name.removesuffix(".py")
    if (ROOT / "asyncrl" / "analysis" / name).exists():
        return [sys.executable, "-m", f"asyncrl.analysis.{tool}"]
    return [sys.executable, f"benchmarks/{name}"]


def run_script(name: str, *args: object) -> subprocess.CompletedProcess:
    proc = subprocess.run([*command(name), *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc


def table_rows(text: str) -> list[list[str]]:
    """The cells of each body row of the first markdown table in ``text``."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


RAMP = [10.0 * i for i in range(30)]  # with a 5-episode window the mean reaches 100 at episode 12


def test_compare_with_the_runs_own_solved_criterion(tmp_path: Path):
    fake_run(tmp_path / "sweep" / "0", RAMP, seed=0, summary={"solved_at_step": 2000, "solved_wall_s": 2.0,
                                                               "final_eval_return": 100.0})
    fake_run(tmp_path / "sweep" / "1", RAMP, seed=1, summary={"solved_at_step": 4000, "solved_wall_s": 4.0})
    fake_run(tmp_path / "sweep" / "2", RAMP, algo="nstep_q")
    out = tmp_path / "table.md"
    run_script("compare.py", tmp_path / "sweep", "--out", out)
    rows = {row[0]: row for row in table_rows(out.read_text())}
    # Window: env.solved_window = 20. Final: mean of returns 100..290; best: the same (a ramp).
    assert rows["a3c"][1:] == ["2", "2", "195.0 (195.0-195.0)", "195.0 (195.0-195.0)", "2/2",
                               "3,000 (2,000-4,000)", "3.0 (2.0-4.0)", "1,000 (1,000-1,001)", "100.0"]
    assert rows["nstep_q"][5:8] == ["0/1", "-", "-"]


def test_compare_with_a_threshold_reads_the_episodes(tmp_path: Path):
    fake_run(tmp_path / "0", RAMP, seed=0)
    fake_run(tmp_path / "1", RAMP, seed=1, step=200, wall=0.2)
    fake_run(tmp_path / "2", [0.0] * 30, seed=2)
    proc = run_script("compare.py", tmp_path, "--by", "algo.name", "--threshold", "100", "--window", "5")
    header = proc.stdout.splitlines()[0]
    assert "steps to 100" in header and "wall s to 100" in header and "reached" in header
    [row] = table_rows(proc.stdout)
    # Mean of the last 5 first reaches 100 at episode 12: step 100*13 (and 200*13), wall 0.1*12 (and 0.2*12).
    # Final = best = mean(250..290) = 270 for the ramps, 0 for the flat run.
    assert row[1:8] == ["3", "270.0 (0.0-270.0)", "270.0 (0.0-270.0)", "2/3", "1,950 (1,300-2,600)",
                        "1.8 (1.2-2.4)", "1,001 (1,000-1,002)"]


def test_scaling_speedup_is_the_ratio_of_median_wall_times(tmp_path: Path):
    # Reaching 100 with a window of 5 takes 13 episodes: wall = 12 * wall-per-episode, steps = 13 * step.
    for algo in ("a3c", "nstep_q"):
        for seed, (step, wall) in enumerate([(300, 0.4), (500, 0.6)]):
            fake_run(tmp_path / algo / f"w1-{seed}", RAMP, algo=algo, workers=1, seed=seed, step=step, wall=wall)
        for seed, (step, wall) in enumerate([(400, 0.2), (400, 0.3)]):
            fake_run(tmp_path / algo / f"w2-{seed}", RAMP, algo=algo, workers=2, seed=seed, step=step, wall=wall)
        fake_run(tmp_path / algo / "w4-0", RAMP, algo=algo, workers=4, step=800, wall=0.25)
        fake_run(tmp_path / algo / "w4-1", [0.0] * 30, algo=algo, workers=4, seed=1)
    out = tmp_path / "out" / "scaling.png"
    proc = run_script("scaling.py", tmp_path, "--reference", "100", "--window", "5", "--cores", "2", "--out", out)
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert out.with_suffix(".md").read_text().strip() == proc.stdout.strip()
    rows = {(r[0], r[1]): r for r in table_rows(proc.stdout)}
    # 1 worker: wall medians of 4.8 and 7.2 = 6.0, steps 5,200; 2 workers: 3.0, 5,200; 4: 3.0, 10,400.
    assert rows["a3c", "1"][2:9] == ["2", "2/2", "5,200 (3,900-6,500)", "6.0 (4.8-7.2)", "1.00", "1.00", "1,000"]
    assert rows["a3c", "2"][5:8] == ["3.0 (2.4-3.6)", "2.00", "1.00"]
    assert rows["nstep_q", "4"][3:8] == ["1/2", "10,400", "3.0", "2.00", "0.50"]
    assert rows["nstep_q", "4"][9] == "oversubscribed (4 workers > 2 cores)" and rows["nstep_q", "2"][9] == ""
    speedups = proc.stdout.split("Speedup in wall time")[1]
    assert "| method | 1 | 2 | 4* |" in speedups and "| a3c | 1.00 | 2.00 | 2.00 |" in speedups


def test_robustness_reads_the_resolved_lr_and_the_final_score(tmp_path: Path):
    lrs = [1e-4, 1e-3, 3e-3, 1e-2]
    finals = [20.0, 200.0, 480.0, 10.0]
    for variant, (name, shared) in {"sgd": ("sgd_momentum", False), "rms": ("rmsprop", False),
                                     "rms_shared": ("rmsprop", True)}.items():
        for seed, (lr, final) in enumerate(zip(lrs, finals, strict=True)):
            path = tmp_path / variant / str(seed)
            # The last 20 episodes average to ``final``; earlier ones must not count.
            fake_run(path, [999.0] * 10 + [final - 5.0, final + 5.0] * 10, seed=seed, record_config=True,
                     optim={"name": name, "lr": lr, "shared_stats": shared})
            # Hydra saves the unresolved interpolation; the script must read the recorded resolved value.
            hydra_cfg = path / ".hydra" / "config.yaml"
            hydra_cfg.write_text(hydra_cfg.read_text().replace(f"lr: {lr}", "lr: ${loguniform:1e-4,1e-2,${seed}}"))
            assert "loguniform" in hydra_cfg.read_text()
    out = tmp_path / "robustness.png"
    proc = run_script("robustness.py", tmp_path, "--thresholds", "195", "475", "--out", out)
    assert out.read_bytes()[:8] == PNG_MAGIC and out.stat().st_size > 10_000
    rows = {r[0]: r for r in table_rows(proc.stdout)}
    assert set(rows) == {"sgd_momentum", "rmsprop", "rmsprop_shared"}
    # Median of 10, 20, 200, 480 = 110; lrs 1e-3 and 3e-3 reach 195, 3e-3 alone 475 (the best).
    assert rows["rmsprop_shared"][1:] == ["4", "1.0e-04-1.0e-02", "110.0", "2/4", "1.0e-03-3.0e-03", "1/4", "3.0e-03",
                                          "3.0e-03 (480.0)"]


def test_curves_one_png_per_env_and_a_grid_of_all(tmp_path: Path):
    for env in ("ALE/Pong-v5", "ALE/Breakout-v5"):
        for seed in range(2):
            fake_run(tmp_path / env.replace("/", "_") / str(seed), RAMP, env=env, seed=seed, wall=0.5 + seed)
    fake_run(tmp_path / "ALE_Pong-v5" / "nstep", RAMP, env="ALE/Pong-v5", algo="nstep_q")
    out = tmp_path / "figs" / "figure1.png"
    proc = run_script("curves.py", tmp_path, "--by", "algo.name", "--x", "wall", "--out", out)
    written = [Path(p) for p in proc.stdout.split()]
    assert written == [out, out.with_name("figure1-ALE-Breakout-v5.png"), out.with_name("figure1-ALE-Pong-v5.png")]
    for path in written:
        assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 10_000

    single = tmp_path / "pong.png"
    proc = run_script("curves.py", tmp_path / "ALE_Pong-v5", "--x", "frames", "--out", single)
    assert proc.stdout.split() == [str(single)] and single.read_bytes()[:8] == PNG_MAGIC


def test_curves_legend_names_the_grouping_key_and_each_group(tmp_path: Path):
    for workers in (1, 2):
        fake_run(tmp_path / f"w{workers}", RAMP, workers=workers)
    fig, ax = plt.subplots()
    draw_panel(ax, [load_run(r) for r in find_runs([tmp_path])], ["workers"], "frames", 5, "CartPole-v1")
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "workers"
    assert [t.get_text() for t in legend.get_texts()] == ["1 (1 run)", "2 (1 run)"]
    plt.close(fig)


def visible_tick_labels(ax: Any) -> list[str]:
    """The x tick labels inside the view, after drawing."""
    ax.figure.canvas.draw()
    lo, hi = ax.get_xlim()
    return [label.get_text() for tick, label in zip(ax.get_xticks(), ax.get_xticklabels(), strict=True)
            if lo <= tick <= hi and label.get_text()]


def test_robustness_figure_labels_the_lr_axis_and_each_threshold():
    groups = {"rmsprop": [(1.2e-4, 20.0), (9e-4, 150.0), (8e-3, 480.0)], "sgd_momentum": [(2e-4, 30.0)]}
    fig = robustness.figure(groups, [195, 475], 20, "A3C on CartPole-v1")
    ax = fig.axes[0]
    # Two decades of lr get ticks at 1, 2 and 5 of each, every one labelled (not one lone 1e-3).
    assert visible_tick_labels(ax) == ["1e-4", "2e-4", "5e-4", "1e-3", "2e-3", "5e-3"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["score 195", "score 475"]
    assert fig.texts[0].get_text() == "A3C on CartPole-v1"
    plt.close(fig)


def test_scaling_figure_keeps_groups_that_scale_alike_apart(tmp_path: Path):
    # Both algorithms scale identically, so lines would lie on top of each other; bars sit side by side.
    for algo in ("a3c", "one_step_q"):
        for workers, wall in ((1, 0.4), (2, 0.2)):
            fake_run(tmp_path / algo / str(workers), RAMP, algo=algo, workers=workers, wall=wall)
    runs = [load_run(r) for r in find_runs([tmp_path])]
    rows = scaling.scaling_rows(runs, ["algo.name"], 100, 5)
    title = f"Scaling with workers: {shared_description(runs, ['algo.name', 'workers'])}"
    fig = scaling.figure(rows, 100, 5, 2, title)
    ax_speed = fig.axes[0]
    centres = [(round(p.get_x() + p.get_width() / 2, 6), p.get_height()) for p in ax_speed.patches]
    assert len(centres) == 4 and len({x for x, _ in centres}) == 4
    assert sorted(h for _, h in centres) == pytest.approx([1.0, 1.0, 2.0, 2.0])
    assert fig.texts[0].get_text() == ("Scaling with workers: CartPole-v1\n"
                                       "reaching a mean of 100 over the last 5 episodes")
    plt.close(fig)


def test_shared_description_names_what_every_run_has_in_common(tmp_path: Path):
    for seed in range(2):
        fake_run(tmp_path / str(seed), RAMP, seed=seed, record_config=True, env="CartPole-v1",
                 config_extra={"total_steps": 50000, "stop_when_solved": False, "envs_per_worker": 1})
    fake_run(tmp_path / "other", RAMP, algo="nstep_q", record_config=True,
             config_extra={"total_steps": 50000, "stop_when_solved": False, "envs_per_worker": 1})
    runs = [load_run(r) for r in find_runs([tmp_path])]
    assert shared_description(runs[:2]) == "CartPole-v1, a3c, 2 workers, 50k steps each"
    assert shared_description(runs) == "CartPole-v1, 2 workers, 50k steps each"  # algo differs
    assert shared_description(runs, ["workers"]) == "CartPole-v1, 50k steps each"
    hour = tmp_path / "hour"
    fake_run(hour / "run", RAMP, env="ALE/Breakout-v5", record_config=True,
             config_extra={"total_steps": 100_000_000, "stop_when_solved": False, "time_limit_s": 3600.0,
                           "envs_per_worker": 8, "profile": "fast"})
    assert shared_description([load_run(hour / "run")]) == "ALE/Breakout-v5, a3c, 2 workers x 8 envs, profile=fast, " \
                                                            "60 min each"


def test_curves_mark_a_games_published_one_hour_scores(tmp_path: Path):
    fake_run(tmp_path / "run", RAMP, env="ALE/Breakout-v5", summary={"wall_s": 3600.0})
    runs = [load_run(r) for r in find_runs([tmp_path])]
    fig, ax = plt.subplots()
    draw_panel(ax, runs, ["algo.name"], "wall", 5, "ALE/Breakout-v5", anchors=True)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "a3c (1 run)", "paper A3C, 16 threads, 1 h: 10", "RLlib A2C, 1 h: 268", "RLlib IMPALA, 1 h: 538"]
    markers = [(list(line.get_xdata()), list(line.get_ydata())) for line in ax.get_lines() if line.get_marker() == "o"]
    assert markers == [([3600], [10]), ([3600], [268]), ([3600], [538])]  # at one hour on the wall-time axis
    plt.close(fig)
    fig, ax = plt.subplots()
    draw_panel(ax, runs, ["algo.name"], "wall", 5, "ALE/Breakout-v5")  # without --anchors: none
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a3c (1 run)"]
    plt.close(fig)


def test_curves_say_when_runs_stopped_themselves_at_a_score(tmp_path: Path):
    stop = {"stop_when_solved": True, "env": {"name": "cartpole", "solved_window": 20, "solved_return": 195}}
    for seed in range(2):
        fake_run(tmp_path / "q" / str(seed), RAMP, algo="one_step_q", seed=seed, config_extra=stop)
    fake_run(tmp_path / "a3c", RAMP, config_extra={"stop_when_solved": False})
    fig, ax = plt.subplots()
    draw_panel(ax, [load_run(r) for r in find_runs([tmp_path])], ["algo.name"], "steps", 5, "CartPole-v1")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a3c (1 run)",
                                                                   "one_step_q (2 runs, stopped at 195)"]
    dotted = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert len(dotted) == 1 and list(dotted[0].get_ydata()) == [195, 195]
    plt.close(fig)


def test_score_at_reads_the_last_100_mean_at_each_wall_time_beside_the_anchors(tmp_path: Path):
    # Episode i ends at 6 i seconds with return i; the hour-long run played 300 episodes.
    fake_run(tmp_path / "breakout", [float(i) for i in range(300)], env="ALE/Breakout-v5", wall=6.0,
             summary={"wall_s": 3600.0})
    fake_run(tmp_path / "pong", [-21.0] * 100, env="ALE/Pong-v5", wall=6.0, summary={"wall_s": 1000.0})
    out = tmp_path / "table.md"
    proc = run_script("score_at.py", tmp_path, "--minutes", "15", "30", "60", "--out", out)
    rows = {r[0]: r for r in table_rows(proc.stdout)}
    # 15 min: episodes 0-150 done, the last 100 are 51-150 (mean 100.5, 151 x 400 frames); then all 300 (249.5).
    assert rows["ALE/Breakout-v5"][1:] == ["a3c", "1", "100 (0.1M)", "250 (0.1M)", "250 (0.1M)", "10.0", "268",
                                           "538"]
    # A run that had stopped (after 1,000 s) has no score at 30 and 60 minutes; Pong's one anchor is the paper's.
    assert rows["ALE/Pong-v5"][3:] == ["-21.0 (0.0M)", "-", "-", "-14.3", "-", "-"]
    assert out.read_text().strip() == proc.stdout.strip() and "Anchors: one hour of training" in proc.stdout


def test_a_kept_run_reads_as_the_run_did(tmp_path: Path):
    fake_run(tmp_path / "run", RAMP, env="ALE/Breakout-v5", summary={"wall_s": 3600.0})
    train = {"type": "train", "worker": 1, "global_step": 40, "wall_s": 2.5, "train/entropy": 1.7,
             "train/grad_norm": 3.0, "worker_1/steps_per_s": 900.0}
    with (tmp_path / "run" / "metrics.jsonl").open("a") as f:
        f.write(json.dumps(train) + "\n" + json.dumps({"type": "progress", "global_step": 40}) + "\n")
    proc = run_script("keep_run.py", tmp_path / "run", tmp_path / "kept")
    assert proc.stdout.strip() == f"kept 30 episodes of {tmp_path / 'run'} in {tmp_path / 'kept'}"
    kept = tmp_path / "kept"
    assert sorted(p.name for p in kept.iterdir()) == [".hydra", "metrics.jsonl.gz", "summary.json"]
    original, copy = load_episodes(tmp_path / "run"), load_episodes(kept)
    for name in ("steps", "frames", "wall", "returns"):
        assert np.array_equal(getattr(original, name), getattr(copy, name))
    assert load_run(kept)["config"] == load_run(tmp_path / "run")["config"]
    with gzip.open(kept / "metrics.jsonl.gz", "rt") as f:
        kept_train = [r for r in map(json.loads, f) if r["type"] != "episode"]
    # The training records without per-worker rates; no progress record.
    assert kept_train[-1] == {k: v for k, v in train.items() if not k.startswith("worker_")}
    assert [r["type"] for r in kept_train] == ["train", "train"]


def test_takeoff_says_when_a_run_left_random_play_for_good(tmp_path: Path):
    fake_run(tmp_path / "probe", [-21.0] * 50 + [-15.0] * 50, wall=6.0, summary={"wall_s": 600.0})
    with (tmp_path / "probe" / "metrics.jsonl").open("a") as f:
        for second, entropy in ((10, 1.79), (100, 1.77), (200, 1.5), (400, 1.2)):
            f.write(json.dumps({"type": "train", "worker": 0, "global_step": 1, "wall_s": second,
                                "train/entropy": entropy}) + "\n")
    proc = run_script("takeoff.py", tmp_path, "--window", "10", "--minutes", "5", "10", "--every", "5")
    # Episode i ends at 6 i s; the last-10 mean first stays above -20 from episode 51 (306 s, 4 x 5,200 frames).
    assert table_rows(proc.stdout) == [["probe", "1,000", "-20.4", "-15.0", "5.1 min (0.0M frames)", "1.77 1.20"]]


def test_study_follows_each_search_trial_by_trial(tmp_path: Path):
    def search(name: str, trials: list[tuple[float, float | None]]) -> Path:
        for num, (lr, score) in enumerate(trials):
            fake_run(tmp_path / name / str(num), RAMP, seed=num, record_config=True,
                     optim={"name": "rmsprop_shared", "lr": lr, "shared_stats": True}, summary={"score": score})
        return tmp_path / name

    adaptive = search("optuna", [(1e-4, 20.0), (5e-3, 250.0), (6e-3, None), (7e-3, 480.0)])
    random = search("random", [(2e-4, 30.0), (3e-3, 150.0), (8e-3, 210.0), (1e-3, 40.0)])
    out = tmp_path / "study.png"
    proc = run_script("study.py", adaptive, random, "--param", "optim.lr", "--thresholds", "195", "--out", out)
    assert out.read_bytes()[:8] == PNG_MAGIC and out.with_suffix(".md").exists()
    assert table_rows(proc.stdout) == [["optuna", "4", "1", "2/4", "2", "480.0", "7.00e-03"],
                                       ["random", "4", "0", "1/4", "3", "210.0", "8.00e-03"]]
    proc = subprocess.run([*command("study.py"), str(adaptive), "--param", "optim.lrr"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.strip().endswith("optim.lrr: no trial of "
                                                                 f"{adaptive} has this key")


@pytest.mark.parametrize("script", ["compare.py", "curves.py", "scaling.py", "robustness.py", "score_at.py"])
def test_help_and_no_runs(tmp_path: Path, script: str):
    assert "--out" in run_script(script, "--help").stdout
    args = ["--reference", "1"] if script == "scaling.py" else []
    proc = subprocess.run([*command(script), str(tmp_path), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "no run directories" in proc.stderr


@pytest.mark.parametrize(("script", "args"), [("compare.py", ["--by", "optim.nme"]),
                                              ("curves.py", ["--by", "algo.name", "--panels", "env.nmae"]),
                                              ("scaling.py", ["--by", "optim.nme", "--reference", "1"]),
                                              ("robustness.py", ["--by", "optim.nme"])])
def test_a_grouping_key_no_run_has_is_one_line(tmp_path: Path, script: str, args: list[str]):
    fake_run(tmp_path / "run", RAMP)
    out = ["--out", str(tmp_path / "o.png")]
    proc = subprocess.run([*command(script), str(tmp_path), *args, *out], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    key = next(a for a in args if "." in a and a.endswith(("nme", "nmae")))
    assert proc.returncode == 2 and proc.stderr.strip() == (
        f"{script}: error: {key}: no run has this key (config keys such as algo.name, optim.lr, workers; "
        f"or optim_variant)")


def test_dead_units_reports_each_relu_layer_and_sees_one_killed(tmp_path: Path):
    """A short CartPole run with ReLU layers reads as alive; with the first layer's biases set far below zero, its
    checkpoint reads as that layer dead, and the value as the same in every state."""
    cfg = asyncrl.make_config("runtime=threads", workers=1, total_steps=1000, stop_when_solved=False, progress="off",
                              eval={"episodes": 0}, model={"activation": "relu"})
    asyncrl.train(cfg, tmp_path / "run")
    rows = table_rows(run_script("dead_units.py", tmp_path / "run", "--observations", "200").stdout)
    assert [row[:2] for row in rows] == [["body.2", "64"], ["body.4", "64"]]
    assert all(float(row[2].rstrip("%")) > 50 for row in rows)

    ckpt = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    ckpt["model"]["body.1.bias"].fill_(-1e6)
    torch.save(ckpt, tmp_path / "run" / "checkpoint.pt")
    out = run_script("dead_units.py", tmp_path / "run", "--observations", "200").stdout
    first, second = table_rows(out)
    assert first[2:] == ["0.0%", "0.0%"]
    assert second[2] == second[3]  # a constant input: each unit fires on every observation or on none
    assert "standard deviation across observations 0.0000" in out.splitlines()[-2]
