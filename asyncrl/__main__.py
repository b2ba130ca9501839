"""Command line: ``python -m asyncrl [key=value ...]`` (Hydra; ``-m`` sweeps).

``python -m asyncrl resume=RUN_DIR [key=value ...]`` continues a run from its
checkpoint, in the same directory, with its saved config (plus the given
key=value overrides, e.g. a larger ``total_steps``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from asyncrl.checkpoint import CheckpointError
from asyncrl.config import ConfigError, register_configs

register_configs()


def _resume_into_same_directory(argv: list[str]) -> list[str]:
    """With resume=DIR, make Hydra write into DIR and leave its .hydra/ as it was."""
    dirs = [arg.split("=", 1)[1] for arg in argv if arg.startswith("resume=")]
    if dirs and dirs[-1] not in ("", "null"):
        return [*argv, f"hydra.run.dir={dirs[-1]}", "hydra.output_subdir=null"]
    return argv


def _sweep_group() -> str | None:
    """A multirun's jobs share a wandb group named after the sweep directory."""
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode != RunMode.MULTIRUN:
        return None
    return "-".join(Path(hydra_cfg.sweep.dir).parts[-2:])


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    """Train one run into Hydra's output directory and say where it is."""
    from asyncrl.checkpoint import resume_config
    from asyncrl.runtime.runner import WorkerError
    from asyncrl.train import train

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        ckpt = None
        if cfg.resume:
            run_dir = Path(cfg.resume)
            overrides = [o for o in HydraConfig.get().overrides.task if not o.startswith("resume=")]
            cfg, ckpt = resume_config(run_dir, overrides)
        summary = train(cfg, run_dir, ckpt, wandb_group=_sweep_group())
    except (ConfigError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except WorkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"run directory: {run_dir}", file=sys.stderr)
        sys.exit(1)
    except OSError as exc:  # e.g. the disk is full or the directory went read-only
        print(f"error: cannot write the run directory {run_dir}: {exc}", file=sys.stderr)
        sys.exit(1)
    ret = summary["final_eval_return"]
    ret_text = "-" if ret is None else f"{ret:.1f}"
    print(f"{summary['status']}: {summary['global_steps']:,} steps in {summary['wall_s']:.1f} s "
          f"({summary['steps_per_s']:,.0f} steps/s), greedy eval return {ret_text}")
    print(f"run directory: {run_dir}")
    if summary["status"] == "interrupted":
        sys.exit(130)


if __name__ == "__main__":
    sys.argv = _resume_into_same_directory(sys.argv)
    main()
