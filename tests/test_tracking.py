"""Tracking and run artifacts: wandb, TensorBoard, grouped keys, periodic eval and checkpoints, resume."""

import json
from pathlib import Path

import pytest
import torch

from asyncrl.build import build_run
from asyncrl.checkpoint import load_checkpoint, restore, resume_config, upgrade_config
from asyncrl.runtime.shared import create_shared_state
from tests.conftest import ROOT, read_jsonl, run_cli
from tests.wandb_log import history, run_info


def _wandb_log(run_dir: Path) -> Path:
    return next((run_dir / "wandb").glob("offline-run-*/run-*.wandb"))


def test_wandb_offline_run_holds_the_metrics_and_config(run_dir: Path):
    proc = run_cli("logger=wandb", "wandb.mode=offline", "wandb.tags=[smoke]", "total_steps=8000",
                   "stop_when_solved=false", "eval.interval=4000", "eval.episodes=2", "runtime.report_interval_s=0.5",
                   f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    rows = history(_wandb_log(run_dir))
    keys = set().union(*rows)
    for key in ("rollout/episode_return", "train/policy_loss", "train/value_loss", "train/entropy", "train/lr",
                "time/steps_per_s", "worker_0/steps_per_s", "worker_1/steps_per_s", "eval/return_mean",
                "global_step"):
        assert key in keys, key
    # The same numbers as metrics.jsonl, under the same grouped names.
    records = read_jsonl(run_dir / "metrics.jsonl")
    jsonl_returns = [r["episode_return"] for r in records if r["type"] == "episode"]
    wandb_returns = [row["rollout/episode_return"] for row in rows if "rollout/episode_return" in row]
    assert wandb_returns == jsonl_returns
    jsonl_lr = [r["train/lr"] for r in records if r["type"] == "train"]
    assert jsonl_lr and [row["train/lr"] for row in rows if "train/lr" in row] == jsonl_lr
    info = run_info(_wandb_log(run_dir))
    assert {"algo", "env", "optim", "workers", "seed", "total_steps"} <= info["config_keys"]
    assert info["tags"] == ["smoke"]


def test_online_without_a_server_falls_back_to_offline(run_dir: Path):
    # A closed port on this machine: nothing leaves it, and the connection is refused at once.
    proc = run_cli("logger=wandb", "wandb.mode=online", "total_steps=1000", "eval.episodes=1",
                   f"hydra.run.dir={run_dir}",
                   env={"WANDB_API_KEY": "x" * 40, "WANDB_BASE_URL": "http://127.0.0.1:9"})
    assert proc.returncode == 0, proc.stderr
    assert "logging offline instead" in proc.stderr
    assert _wandb_log(run_dir).exists()


def test_multirun_jobs_share_a_wandb_group_named_after_the_sweep(tmp_path: Path):
    sweep = tmp_path / "sweeps" / "my-sweep"
    proc = run_cli("-m", "seed=0,1", "logger=wandb", "total_steps=500", "eval.episodes=0",
                   f"hydra.sweep.dir={sweep}")
    assert proc.returncode == 0, proc.stderr
    groups = {run_info(_wandb_log(d))["group"] for d in sweep.iterdir() if d.is_dir()}
    assert groups == {"sweeps-my-sweep"}


def _event_files(run_dir: Path) -> list[Path]:
    return sorted(run_dir.glob("events.out.tfevents.*"))


def _tensorboard(path: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(path), size_guidance={"scalars": 0, "tensors": 0})
    events.Reload()
    return events


def test_wandb_and_tensorboard_together_hold_the_same_numbers_as_metrics_jsonl(run_dir: Path):
    proc = run_cli("logger=[wandb,tensorboard]", "total_steps=6000", "stop_when_solved=false", "eval.interval=3000",
                   "eval.episodes=2", "runtime.report_interval_s=0.5", f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    assert _wandb_log(run_dir).exists()
    [event_file] = _event_files(run_dir)  # one event file per run directory
    events = _tensorboard(event_file)
    records = read_jsonl(run_dir / "metrics.jsonl")
    episodes = [r for r in records if r["type"] == "episode"]
    logged = events.Scalars("rollout/episode_return")
    # Same values at the same global steps, in the order written (float32 in the event file).
    assert [(e.step, e.value) for e in logged] == [(r["global_step"], pytest.approx(r["episode_return"]))
                                                   for r in episodes]
    trains = [r for r in records if r["type"] == "train"]
    assert [e.value for e in events.Scalars("train/lr")] == [pytest.approx(r["train/lr"]) for r in trains]
    evals = [r for r in records if r["type"] == "eval"]
    assert [e.step for e in events.Scalars("eval/return_mean")] == [r["global_step"] for r in evals]
    tags = set(events.Tags()["scalars"])
    assert {"train/policy_loss", "train/entropy", "time/steps_per_s", "rollout/return_mean",
            "worker_0/steps_per_s", "worker_1/steps_per_s", "rollout/episode_length"} <= tags
    summary = json.loads((run_dir / "summary.json").read_text())
    [text] = events.Tensors("summary/text_summary")
    table = text.tensor_proto.string_val[0].decode()
    assert "| status | finished |" in table and f"| global_steps | {summary['global_steps']} |" in table


def test_tensorboard_on_overwrite_and_on_resume(run_dir: Path):
    proc = run_cli("logger=tensorboard", "total_steps=2000", "eval.episodes=0", f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    [first] = _event_files(run_dir)
    proc = run_cli("total_steps=1500", "eval.episodes=0", "overwrite=true", "logger=tensorboard",
                   f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    [replacing] = _event_files(run_dir)  # the replaced run's curves are gone with its other files
    assert replacing != first
    steps = [e.step for e in _tensorboard(replacing).Scalars("rollout/episode_return")]
    assert steps == [r["global_step"] for r in read_jsonl(run_dir / "metrics.jsonl") if r["type"] == "episode"]

    proc = run_cli(f"resume={run_dir}", "total_steps=3000", "logger=none", "progress=off")
    assert proc.returncode == 0, proc.stderr
    assert _event_files(run_dir) == [replacing]  # logger=none on resume: no tracker this session
    proc = run_cli(f"resume={run_dir}", "total_steps=4500", "logger=[tensorboard]", "progress=off")
    assert proc.returncode == 0, proc.stderr
    assert len(_event_files(run_dir)) == 2  # this session's, beside the first
    assert load_checkpoint(run_dir / "checkpoint.pt")["config"]["logger"] == {"wandb": False, "tensorboard": True}
    proc = run_cli(f"resume={run_dir}", "logger=mlflow", timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: logger='mlflow': no such option; one of none, tensorboard, wandb"


def test_tensorboard_missing_is_refused_in_one_line_and_starts_nothing(tmp_path: Path):
    (tmp_path / "tensorboard").mkdir()  # shadows the installed package, as when it is not installed
    (tmp_path / "tensorboard" / "__init__.py").write_text("raise ImportError('not installed (a test)')\n")
    run_dir = tmp_path / "run"
    proc = run_cli("logger=[wandb,tensorboard]", f"hydra.run.dir={run_dir}", env={"PYTHONPATH": f"{tmp_path}:{ROOT}"},
                   timeout=60)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        "error: logger.tensorboard: TensorBoard is not installed; pip install 'asyncrl[tensorboard]'"]
    assert not run_dir.exists()


def test_a_config_saved_with_one_tracker_by_name_is_upgraded():
    assert upgrade_config({"logger": "wandb"})["logger"] == {"wandb": True, "tensorboard": False}
    assert upgrade_config({"logger": "none"})["logger"] == {"wandb": False, "tensorboard": False}
    assert upgrade_config({"logger": {"wandb": False, "tensorboard": True}})["logger"] == {
        "wandb": False, "tensorboard": True}


def test_periodic_evaluation_and_checkpoints(run_dir: Path):
    proc = run_cli("total_steps=9000", "stop_when_solved=false", "eval.interval=3000", "eval.episodes=2",
                   "checkpoint.interval=4000", f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    evals = [r for r in read_jsonl(run_dir / "metrics.jsonl") if r["type"] == "eval"]
    # Periodic evaluations at 3000, 6000 and 9000 steps, and the final one. An evaluation that falls due while
    # the last one still runs waits for it, and the next falls due at the next multiple of the interval, so on
    # a busy machine one may be played later or not at all: the i-th is played at or after (i + 1) x 3000.
    periodic, final = evals[:-1], evals[-1]
    assert 1 <= len(periodic) <= 3 and final["global_step"] >= 9000
    assert all(r["global_step"] >= 3000 * (i + 1) for i, r in enumerate(periodic))
    assert all(len(r["eval/returns"]) == 2 for r in evals)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["best_eval_return"] == max(r["eval/return_mean"] for r in evals)
    assert summary["final_eval_return"] == evals[-1]["eval/return_mean"]


def test_resume_continues_the_step_statistics_and_metrics(run_dir: Path):
    proc = run_cli("total_steps=4000", "stop_when_solved=false", "eval.episodes=1", f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    first = read_jsonl(run_dir / "metrics.jsonl")
    saved = load_checkpoint(run_dir / "checkpoint.pt")
    assert saved["global_step"] >= 4000

    # The restored shared state equals the checkpoint, before any worker runs.
    cfg, ckpt = resume_config(run_dir, ["total_steps=8000"])
    shared = create_shared_state(build_run(cfg))
    restore(shared, ckpt)
    assert shared.global_step == saved["global_step"]
    assert all(torch.equal(a, b) for a, b in zip(shared.optim_state, saved["optim_state"], strict=True))
    assert all(torch.equal(shared.model.state_dict()[k], v) for k, v in saved["model"].items())

    proc = run_cli(f"resume={run_dir}", "total_steps=8000", "progress=off")  # "off" a string, as on a fresh run
    assert proc.returncode == 0, proc.stderr
    records = read_jsonl(run_dir / "metrics.jsonl")
    assert records[: len(first)] == first  # appended, never overwritten
    resumed = records[len(first)]
    assert resumed["type"] == "resume" and resumed["global_step"] == saved["global_step"]
    later = [r["global_step"] for r in records[len(first) + 1 :] if r["type"] == "episode"]
    assert later and min(later) > saved["global_step"]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["resumes"] == 1 and 8000 <= summary["global_steps"] < 8000 + 10
    assert summary["config"]["progress"] == "off"
    # The run's figures cover both sessions; this session's own are given beside them, labelled.
    assert summary["session_steps"] == summary["global_steps"] - saved["global_step"]
    # Bookkeeping, not a speed: the run's wall time is the earlier session's plus this one's.
    assert summary["wall_s"] == pytest.approx(saved["run_state"]["wall_s"] + summary["session_wall_s"])
    assert f"steps in {summary['wall_s']:.1f} s over 2 sessions (" in proc.stdout
    assert (f"this session: {summary['session_steps']:,} steps in {summary['session_wall_s']:.1f} s"
            in proc.stdout)
    assert load_checkpoint(run_dir / "checkpoint.pt")["config"]["total_steps"] == 8000


def test_resume_from_a_directory_without_checkpoint_is_one_line(tmp_path: Path):
    proc = run_cli(f"resume={tmp_path}", timeout=60)
    assert proc.returncode == 2 and "no checkpoint.pt" in proc.stderr and "Traceback" not in proc.stderr


def test_resume_refuses_to_change_a_config_group(run_dir: Path):
    proc = run_cli("total_steps=500", "eval.episodes=0", f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli(f"resume={run_dir}", "algo=nstep_q", timeout=60)
    assert proc.returncode == 2 and "algo" in proc.stderr and "when resuming" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads((run_dir / "summary.json").read_text())["algo"] == "a3c"  # the run is untouched
