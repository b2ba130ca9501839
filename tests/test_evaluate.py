"""`python -m asyncrl.evaluate RUN_DIR ...`: eval.json, videos, bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from asyncrl.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from tests.conftest import ROOT, run_cli


def evaluate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "asyncrl.evaluate", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def cartpole_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("cartpole") / "run"
    proc = run_cli("total_steps=3000", "eval.episodes=1", f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    return run_dir


def test_eval_json_has_the_requested_episodes(cartpole_run: Path):
    proc = evaluate(str(cartpole_run), "episodes=4", "epsilon=0.05", "seed=3")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((cartpole_run / "eval.json").read_text())
    assert len(report["returns"]) == len(report["lengths"]) == 4 == report["episodes"]
    # The same rules as a run's own evaluation, said first; then one line per episode as it ends.
    lines = proc.stdout.splitlines()
    budget = max(report["checkpoint_step"], 18_000)  # as many steps as it trained, at least one bounded episode
    assert lines[0].endswith(f"each, no new one after {budget:,} steps in all; actions sampled from the policy, "
                             f"and a uniformly random action with probability 0.05")
    assert [line.split(":")[0] for line in lines[1:5]] == [f"eval episode {i}/4" for i in range(1, 5)]
    assert report["policy"] == "actions sampled from the policy, and a uniformly random action with probability 0.05"
    assert report["mean"] == pytest.approx(sum(report["returns"]) / 4)
    assert report["epsilon"] == 0.05 and report["videos"] == []
    # CartPole pays 1 per step: returns equal lengths.
    assert report["returns"] == [float(n) for n in report["lengths"]]
    assert report["checkpoint_step"] == load_checkpoint(cartpole_run / "checkpoint.pt")["global_step"]


def test_video_true_writes_an_mp4(cartpole_run: Path):
    proc = evaluate(str(cartpole_run), "episodes=1", "video=true")
    assert proc.returncode == 0, proc.stderr
    videos = list((cartpole_run / "videos").glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 1000
    assert json.loads((cartpole_run / "eval.json").read_text())["videos"] == [str(videos[0])]


def test_atari_video(tmp_path: Path):
    run_dir = tmp_path / "run"
    proc = run_cli("env=breakout", "workers=1", "total_steps=200", "eval.episodes=0", f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    proc = evaluate(str(run_dir), "episodes=1", "video=true", "max_episode_frames=600")
    assert proc.returncode == 0, proc.stderr
    videos = list((run_dir / "videos").glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 1000


@pytest.mark.parametrize(("args", "message"), [
    (["episodes=0"], "episodes=0"),
    (["bogus=1"], "bogus"),
    (["episodes=many"], "episodes"),
    (["epsilon=2"], "epsilon=2"),
])
def test_bad_arguments_are_one_line(cartpole_run: Path, args: list[str], message: str):
    proc = evaluate(str(cartpole_run), *args)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_a_file_that_is_not_a_checkpoint_is_rejected_in_one_line(tmp_path: Path):
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    proc = evaluate(str(tmp_path))
    assert proc.returncode == 2 and "not a readable checkpoint" in proc.stderr and "Traceback" not in proc.stderr
    torch.save({"some": "dict"}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not an asyncrl checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_a_save_that_fails_leaves_the_previous_checkpoint(tmp_path: Path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"global_step": 1})
    (tmp_path / "checkpoint.pt.tmp").symlink_to("/dev/full")  # the disk is full: every write fails
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(path, {"global_step": 2, "model": {"w": torch.zeros(1000)}})
    assert load_checkpoint(path)["global_step"] == 1
