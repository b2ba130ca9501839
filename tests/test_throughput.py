"""benchmarks/throughput.py: the arithmetic by hand, and a tiny real run so the script cannot rot."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from throughput import _step_at, markdown, summarise  # noqa: E402


def run(rate: float, cpu: float = 0.02) -> dict[str, float]:
    return {"steps_per_s": rate, "main_cpu_share": cpu, "peak_rss_mib_worker": 300.0, "peak_rss_mib_main": 250.0}


def test_summary_ratio_and_scaling_by_hand():
    ceiling = {"env_ms": 0.5, "act_ms": 0.3, "update_ms": 1.2, "per_worker_steps_per_s": 500.0, "frame_skip": 4}
    runs = {1: [run(400), run(450), run(420)], 2: [run(800), run(900), run(840)], 4: [run(850)]}
    result = summarise([1, 2, 4], runs, ceiling, frame_skip=4, cores=2)
    one, two, four = (result["per_workers"][k] for k in ("1", "2", "4"))
    assert one["steps_per_s"] == 420 and one["steps_per_s_range"] == [400, 450]
    assert two["frames_per_s"] == 4 * 840
    assert one["ceiling_steps_per_s"] == 500 and two["ceiling_steps_per_s"] == 1000
    assert four["ceiling_steps_per_s"] == 1000 and four["oversubscribed"]  # only 2 cores fit
    assert two["ratio_to_ceiling"] == pytest.approx(0.84)
    assert two["scaling"] == pytest.approx(840 / 420)
    assert "| 4 (oversubscribed) | 850" in markdown("test", result)
    assert "independent_steps_per_s" not in two


def test_summary_against_independent_runs_by_hand():
    ceiling = {"env_ms": 0.5, "act_ms": 0.3, "update_ms": 1.2, "per_worker_steps_per_s": 500.0, "frame_skip": 4}
    runs = {1: [run(420)], 2: [run(800), run(900), run(840)]}
    result = summarise([1, 2], runs, ceiling, frame_skip=4, cores=2, independent={2: [1000.0, 1100.0, 1050.0]})
    two = result["per_workers"]["2"]
    assert two["independent_steps_per_s"] == 1050
    assert two["ratio_to_independent"] == pytest.approx(840 / 1050)
    assert "independent_steps_per_s" not in result["per_workers"]["1"]
    assert "2 unrelated one-worker runs at once: 1,050 steps/s" in markdown("test", result)


def test_step_at_interpolates_between_progress_records():
    points = [(1.0, 100), (3.0, 500), (5.0, 700)]
    assert _step_at(points, 2.0) == 300
    assert _step_at(points, 4.5) == 650
    with pytest.raises(ValueError):
        _step_at(points, 9.0)


def test_throughput_script_on_a_tiny_budget(tmp_path: Path):
    """About 25 s: the script's smallest complete measurement, runs of 3 s each (1 and 2 workers, a pair of
    independent one-worker runs) and the ceiling, each in fresh processes that import torch."""
    out = tmp_path / "tp.json"
    proc = subprocess.run([sys.executable, "benchmarks/throughput.py", "--env", "cartpole", "--algo", "nstep_q",
                           "--workers", "1", "2", "--envs-per-worker", "2", "--seconds", "2", "--warmup", "1",
                           "--repeats", "1", "--ceiling-seconds", "0.2", "--independent", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    row = result["per_workers"]["1"]
    for key in ("steps_per_s", "frames_per_s", "ceiling_steps_per_s", "ratio_to_ceiling", "scaling"):
        assert row[key] > 0, key
    assert row["frames_per_s"] == row["steps_per_s"]  # CartPole: one frame per step
    assert row["ratio_to_ceiling"] == pytest.approx(row["steps_per_s"] / row["ceiling_steps_per_s"])
    assert row["peak_rss_mib_worker"] > 50  # a worker process was found and measured
    parts = result["ceiling_components"]
    assert parts["env_ms"] > 0 and parts["act_ms"] > 0 and parts["update_ms"] > 0
    assert "| 1 |" in proc.stdout and "| 2 |" in proc.stdout
    two = result["per_workers"]["2"]
    assert len(two["independent_steps_per_s_runs"]) == 1  # one pair of unrelated one-worker runs per repeat
    assert two["ratio_to_independent"] == pytest.approx(two["steps_per_s"] / two["independent_steps_per_s"])
