"""Command line: ``python -m asyncrl [key=value ...]`` (Hydra; ``-m`` sweeps)."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from asyncrl.checkpoint import CheckpointError
from asyncrl.config import ConfigError, register_configs

register_configs()


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    """Train one run into Hydra's output directory and say where it is."""
    from asyncrl.runtime.runner import WorkerError
    from asyncrl.train import train

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        summary = train(cfg, run_dir)
    except (ConfigError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except WorkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"run directory: {run_dir}", file=sys.stderr)
        sys.exit(1)
    ret = summary["final_eval_return"]
    ret_text = "-" if ret is None else f"{ret:.1f}"
    print(f"{summary['status']}: {summary['global_steps']:,} steps in {summary['wall_s']:.1f} s "
          f"({summary['steps_per_s']:,.0f} steps/s), greedy eval return {ret_text}")
    print(f"run directory: {run_dir}")
    if summary["status"] == "interrupted":
        sys.exit(130)


if __name__ == "__main__":
    main()
