"""Keep a run's record in the repository: its summary, config and episodes, compressed.

A benchmark run directory holds a checkpoint and every training record
(megabytes for an hour of Atari). The figures and tables need only the
episodes, so this copies ``summary.json`` and ``.hydra/config.yaml`` and
writes the episode records of ``metrics.jsonl`` (global step, frames, wall
time, return, length) to ``metrics.jsonl.gz``, which every script in
``benchmarks/`` reads in place of ``metrics.jsonl``.

    python benchmarks/keep_run.py bench-out/atari-hour/a3c/breakout benchmarks/results/atari-hour/a3c/breakout
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
from pathlib import Path

KEPT = ("type", "global_step", "frames", "wall_s", "episode_return", "episode_length")


def keep(src: Path, dst: Path) -> int:
    """Copy ``src``'s record into ``dst``; return the number of episodes kept."""
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / "summary.json", dst / "summary.json")
    (dst / ".hydra").mkdir(exist_ok=True)
    shutil.copy2(src / ".hydra" / "config.yaml", dst / ".hydra" / "config.yaml")
    kept = 0
    with (src / "metrics.jsonl").open(encoding="utf-8") as f, \
            gzip.open(dst / "metrics.jsonl.gz", "wt", encoding="utf-8", compresslevel=9) as out:
        for line in f:
            if '"episode"' not in line:
                continue
            record = json.loads(line)
            if record.get("type") == "episode":
                out.write(json.dumps({k: record[k] for k in KEPT if k in record}, separators=(",", ":")) + "\n")
                kept += 1
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", type=Path, help="a run directory (with summary.json and metrics.jsonl)")
    parser.add_argument("dst", type=Path, help="where to keep it")
    args = parser.parse_args()
    if not (args.src / "summary.json").is_file() or not (args.src / "metrics.jsonl").is_file():
        parser.error(f"{args.src}: not a finished run directory (no summary.json or metrics.jsonl)")
    print(f"kept {keep(args.src, args.dst):,} episodes of {args.src} in {args.dst}")


if __name__ == "__main__":
    main()
