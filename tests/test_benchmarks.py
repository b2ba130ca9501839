"""The benchmark scripts on synthetic run directories, so they cannot rot."""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def fake_run(path: Path, algo: str, seed: int, solved_at: int | None) -> None:
    (path / ".hydra").mkdir(parents=True)
    (path / ".hydra" / "config.yaml").write_text(f"algo:\n  name: {algo}\nworkers: 2\nseed: {seed}\n")
    episodes = [{"type": "episode", "global_step": 100 * (i + 1), "frames": 100 * (i + 1), "wall_s": 0.1 * i,
                 "worker": i % 2, "episode_return": float(10 * i), "episode_length": 10} for i in range(30)]
    (path / "metrics.jsonl").write_text("\n".join(json.dumps(e) for e in episodes) + "\n")
    summary = {"steps_per_s": 1000.0 + seed, "solved_at_step": solved_at,
               "solved_wall_s": None if solved_at is None else solved_at / 1000, "final_eval_return": 100.0}
    (path / "summary.json").write_text(json.dumps(summary))


def test_compare_and_curves_on_synthetic_runs(tmp_path: Path):
    fake_run(tmp_path / "sweep" / "0", "a3c", 0, 2000)
    fake_run(tmp_path / "sweep" / "1", "a3c", 1, 4000)
    fake_run(tmp_path / "sweep" / "2", "nstep_q", 0, None)
    out = tmp_path / "table.md"
    proc = subprocess.run([sys.executable, "benchmarks/compare.py", str(tmp_path / "sweep"), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = {line.split("|")[1].strip(): line for line in out.read_text().splitlines()[2:]}
    assert "| 2 | 2 | 2/2 | 3,000 (2,000-4,000) | 3.0 (2.0-4.0) |" in rows["a3c"]
    assert "| 0/1 | - | - |" in rows["nstep_q"]

    png = tmp_path / "curves.png"
    proc = subprocess.run([sys.executable, "benchmarks/curves.py", str(tmp_path / "sweep"), "--x", "frames",
                           "--out", str(png)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_rejects_directories_without_runs(tmp_path: Path):
    proc = subprocess.run([sys.executable, "benchmarks/compare.py", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "no run directories" in proc.stderr
