"""The ``loguniform`` resolver: a learning rate sampled per seed, as the run uses it and the scripts read it."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from asyncrl import ConfigError, make_config
from asyncrl.config import loguniform
from tests.conftest import ROOT, read_jsonl, run_cli

SAMPLED_LR = "optim.lr='${loguniform:1e-4,1e-2,${seed}}'"


def test_loguniform_depends_on_the_key_only_and_is_log_uniform():
    values = [loguniform(1e-4, 1e-2, key) for key in range(400)]
    assert values == [loguniform("1e-4", "1e-2", str(key)) for key in range(400)]  # resolvers pass strings
    assert all(1e-4 <= v <= 1e-2 for v in values) and len(set(values)) == 400
    logs = [math.log10(v) for v in values]
    assert abs(sum(logs) / len(logs) - (-3.0)) < 0.15  # the mean of U(-4, -2); its std error is 0.03
    assert sum(v < 1e-3 for v in values) / len(values) == pytest.approx(0.5, abs=0.1)


def test_each_seed_of_a_composed_config_gets_its_own_lr():
    lrs = []
    for seed in (0, 1, 2):
        cfg = make_config(SAMPLED_LR, f"seed={seed}")
        assert cfg.optim.lr == loguniform(1e-4, 1e-2, seed)
        lrs.append(cfg.optim.lr)
    assert len(set(lrs)) == 3


@pytest.mark.parametrize("override", ["optim.lr='${loguniform:-1e-4,1e-2,${seed}}'",
                                      "optim.lr='${loguniform:1e-2,1e-4,${seed}}'",
                                      "optim.lr='${loguniform:1e-4,1e-2}'",
                                      "optim.lr='${loguniform:1e-4,1e-2,${no_such_key}}'"])
def test_a_bad_sample_is_a_config_error_naming_the_key(override: str):
    with pytest.raises(ConfigError, match=r"^optim\.lr: cannot resolve"):
        make_config(override)


def test_an_interpolated_lr_is_still_range_checked():
    with pytest.raises(ConfigError, match=r"optim\.lr=-1\.0: must be > 0"):
        make_config("optim.lr=${seed}", "seed=-1")


def test_cli_bad_sample_is_one_line(run_dir: Path):
    proc = run_cli("optim.lr='${loguniform:0,1e-2,${seed}}'", f"hydra.run.dir={run_dir}", timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "optim.lr: cannot resolve" in proc.stderr and "0 < low < high" in proc.stderr
    assert not (run_dir / "metrics.jsonl").exists()


def test_the_run_trains_with_the_sampled_lr_and_robustness_reads_it(run_dir: Path):
    proc = run_cli(SAMPLED_LR, "seed=3", "optim=sgd_momentum", "optim.anneal_lr=false", "total_steps=3000",
                   "stop_when_solved=false", "eval.episodes=0", "progress=off", "runtime.report_interval_s=0.1",
                   f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    lr = loguniform(1e-4, 1e-2, 3)
    # Hydra keeps the interpolation; the run records the value it resolved.
    assert "${loguniform:1e-4,1e-2,${seed}}" in (run_dir / ".hydra" / "config.yaml").read_text()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["config"]["optim"]["lr"] == lr and summary["config"]["seed"] == 3
    # The workers stepped with it (no annealing: every update used lr; records average over updates).
    used = [r["train/lr"] for r in read_jsonl(run_dir / "metrics.jsonl") if r["type"] == "train"]
    assert used and all(u == pytest.approx(lr, rel=1e-9) for u in used)  # a mean over updates: rounding

    out = run_dir.parent / "robustness.png"
    report = subprocess.run([sys.executable, "-m", "asyncrl.analysis.robustness", str(run_dir), "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    row = [line for line in report.stdout.splitlines() if line.startswith("| sgd_momentum |")]
    assert row and row[0].startswith(f"| sgd_momentum | 1 | {lr:.1e} |")
