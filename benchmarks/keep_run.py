"""Keep a run's record in the repository: its summary, config, episodes and training records, compressed.

A benchmark run directory holds a checkpoint and every record (megabytes for
an hour of Atari). The figures and tables need only the episodes, and a
diagnosis the training records, so this copies ``summary.json`` and
``.hydra/config.yaml`` and writes to ``metrics.jsonl.gz`` (which every
analysis tool, :mod:`asyncrl.analysis`, reads in place of ``metrics.jsonl``) the episode
records (global step, frames, wall time, return, length) and the training
records (worker, global step, wall time, and the ``train/`` values: losses,
entropy, gradient norm, learning rate).

    python benchmarks/keep_run.py bench-out/atari-hour/a3c/breakout benchmarks/results/atari-hour/a3c/breakout
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
from pathlib import Path

KEPT = ("type", "global_step", "frames", "wall_s", "episode_return", "episode_length")
KEPT_TRAIN = ("type", "worker", "global_step", "wall_s")


def kept_record(record: dict) -> dict | None:
    """The part of a record that is kept, or None."""
    if record.get("type") == "episode":
        return {k: record[k] for k in KEPT if k in record}
    if record.get("type") == "train":
        return {k: v for k, v in record.items() if k in KEPT_TRAIN or k.startswith("train/")}
    return None


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
            if '"episode"' not in line and '"train"' not in line:
                continue
            record = kept_record(json.loads(line))
            if record is not None:
                out.write(json.dumps(record, separators=(",", ":")) + "\n")
                kept += record["type"] == "episode"
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
