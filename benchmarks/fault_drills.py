"""Fault drills: run each fault for real and report what happened and what was kept.

    python benchmarks/fault_drills.py --out docs/reliability_drills.md

Each drill starts a CartPole run (2 worker processes) that meets one fault:
a worker that raises, a worker killed with SIGKILL, SIGINT, SIGTERM, a worker
stuck in env.step, non-finite updates (once, and in a row), and a full disk.
The table gives the exit status, seconds from the fault (or start) to exit,
the error line, the summary status and what is left in the run directory.
Also prints the one-line message for every bad input of the CLI test.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bad_inputs import BAD_INPUTS

ROOT = Path(__file__).resolve().parents[1]

PY = [sys.executable, "-m", "asyncrl"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
LONG = ["total_steps=100000000", "stop_when_solved=false", "checkpoint.interval=2000"]


def start(args: list[str], run_dir: Path) -> subprocess.Popen:
    return subprocess.Popen([*PY, *args, f"hydra.run.dir={run_dir}"], cwd=ROOT, env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_metrics(run_dir: Path, size: int = 5000, limit: float = 90) -> None:
    deadline = time.monotonic() + limit
    path = run_dir / "metrics.jsonl"
    while time.monotonic() < deadline and not (path.is_file() and path.stat().st_size > size):
        time.sleep(0.2)


def workers_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split() if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]


def outcome(name: str, proc: subprocess.Popen, t0: float, run_dir: Path, workers: list[int]) -> dict:
    _, err = proc.communicate(timeout=180)
    seconds = time.monotonic() - t0
    time.sleep(1.0)
    alive = [p for p in workers if Path(f"/proc/{p}").exists()
             and Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]
    summary = json.loads((run_dir / "summary.json").read_text()) if (run_dir / "summary.json").is_file() else {}
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    ckpt = run_dir / "checkpoint.pt"
    kept = []
    if (run_dir / "metrics.jsonl").is_file():
        kept.append(f"metrics.jsonl ({sum(1 for _ in (run_dir / 'metrics.jsonl').open())} records)")
    if ckpt.is_file():
        import torch

        kept.append(f"checkpoint.pt (step {torch.load(ckpt, weights_only=True)['global_step']:,})")
    return {"drill": name, "exit": proc.returncode, "seconds": round(seconds, 1),
            "error": lines[0][:140] if lines else "-", "status": summary.get("status", "-"),
            "kept": ", ".join(kept) or "-", "workers left": len(alive)}


def drill_env(name: str, env_id: str, extra: list[str], tmp: Path, base: list[str] = LONG) -> dict:
    run_dir = tmp / name
    t0 = time.monotonic()
    proc = start(["env=gym", f"env.id=benchmarks.fault_envs:{env_id}", *base, *extra], run_dir)
    time.sleep(3)
    return outcome(name, proc, t0, run_dir, workers_of(proc.pid))


def drill_signal(name: str, sig: int, kill_worker: bool, tmp: Path) -> dict:
    run_dir = tmp / name
    proc = start(LONG, run_dir)
    wait_for_metrics(run_dir)
    workers = workers_of(proc.pid)
    t0 = time.monotonic()
    os.kill(workers[0] if kill_worker else proc.pid, sig)
    return outcome(name, proc, t0, run_dir, workers)


def drill_disk(tmp: Path) -> dict:
    run_dir = tmp / "disk-full"
    run_dir.mkdir()
    (run_dir / "checkpoint.pt.tmp").symlink_to("/dev/full")
    t0 = time.monotonic()
    proc = start(LONG, run_dir)
    time.sleep(3)
    return outcome("disk full (the first periodic checkpoint on /dev/full)", proc, t0, run_dir,
                   workers_of(proc.pid))


def bad_input_rows() -> list[str]:
    rows = ["| input | exit | message |", "|---|---|---|"]
    for override, _key in BAD_INPUTS:
        proc = subprocess.run([*PY, *override.split(), "hydra.run.dir=/tmp/asyncrl-bad-input"], cwd=ROOT,
                              env=ENV, capture_output=True, text=True, timeout=120)
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("Set the env")]
        message = " / ".join(lines[:2]).replace("|", "\\|")
        rows.append(f"| `{override}` | {proc.returncode} | {message[:200]} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="also write the markdown here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        drills = [
            drill_env("worker raises in env.step", "FaultyCartPole-v0", [], tmp),
            drill_signal("worker killed with SIGKILL", signal.SIGKILL, True, tmp),
            drill_signal("SIGINT to the main process", signal.SIGINT, False, tmp),
            drill_signal("SIGTERM to the main process", signal.SIGTERM, False, tmp),
            drill_env("worker stuck in env.step", "HangingCartPole-v0", ["runtime.heartbeat_timeout_s=10"], tmp),
            drill_env("one NaN reward per worker", "NaNOnceCartPole-v0", ["total_steps=4000"], tmp, base=[]),
            drill_env("NaN rewards from step 200 on", "NaNRewardCartPole-v0", ["runtime.max_nonfinite_updates=5"],
                      tmp),
            drill_disk(tmp),
        ]
    keys = list(drills[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(d[k]).replace("|", "\\|") for k in keys) + " |" for d in drills]
    text = "## Fault drills\n\n" + "\n".join(lines) + "\n\n## Bad input\n\n" + "\n".join(bad_input_rows()) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
