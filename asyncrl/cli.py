"""The command line: ``asyncrl [key=value ...]`` (also ``python -m asyncrl``); ``-m`` sweeps.

``asyncrl resume=RUN_DIR [key=value ...]`` continues a run from its
checkpoint, in the same directory, with its saved config (plus the given
key=value overrides, e.g. a larger ``total_steps``).

A thin Hydra app over the Python API: before Hydra starts, every job's
overrides go through :func:`asyncrl.make_config` (the same composition and
validation), so bad input is one line and nothing starts; then Hydra runs
each job through :func:`asyncrl.train`.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import hydra
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from asyncrl.build import group_options, hydra_error_line
from asyncrl.checkpoint import CheckpointError, resume_config
from asyncrl.config import Config, ConfigError, config_dir, register_configs
from asyncrl.registry import report_plugin_problems, store_configs
from asyncrl.rundir import RunDirectoryError, check_free, check_writable, holds_a_run
from asyncrl.summary import write_summary

APP = "asyncrl"
GROUPS = ("algo", "env", "optim", "profile", "runtime", "logger")
SECTIONS = ("model", "eval", "checkpoint", "wandb")
MULTIRUN_FLAGS = ("-m", "--multirun")
# Hydra's flags for printing the config (--cfg job|hydra|all, --package P, --resolve): such a command is
# validated as a training command is, then Hydra prints.
PRINT_FLAGS_WITH_VALUE = ("--cfg", "-c", "--package", "-p")
PRINT_FLAGS = ("--resolve",)
OPTUNA_DEFAULTS = {"hydra.sweeper.direction": "maximize", "hydra.sweeper.max_failure_rate": "1.0"}


def default_options() -> dict[str, str]:
    """The option each group takes when not given (``conf/config.yaml``'s defaults list)."""
    data = yaml.safe_load((config_dir() / "config.yaml").read_text(encoding="utf-8"))
    return {k: v for entry in data["defaults"] if isinstance(entry, dict) for k, v in entry.items() if k in GROUPS}


def help_text() -> str:
    """``asyncrl --help``: usage, each group's options, the top-level keys."""
    from asyncrl.config_doc import field_comments, fmt, meaning, schema_default

    defaults = default_options()
    lines = [
        f"{APP}: asynchronous one-step Q, one-step Sarsa, n-step Q and A3C (Mnih et al. 2016)",
        "",
        "usage:",
        f"  {APP} [KEY=VALUE ...]              train one run (same as python -m asyncrl)",
        f"  {APP} -m KEY=A,B [KEY=VALUE ...]   a sweep: one run per combination",
        f"  {APP} resume=RUN_DIR [KEY=VALUE]   continue a run from its checkpoint",
        "",
        "groups (GROUP=OPTION; the default is marked *):",
    ]
    for group in GROUPS:
        options = [f"{o}*" if o == defaults.get(group) else o for o in group_options(group)]
        lines.append(f"  {group:<9}{', '.join(options)}")
    lines += ["", "top-level keys (KEY=VALUE; every option's keys: python -m asyncrl.config_doc --print):"]
    comments = field_comments()
    for f in dataclasses.fields(Config):
        if f.name in GROUPS or f.name in SECTIONS:
            continue
        lines.append(f"  {f.name + '=' + fmt(schema_default(f)):<24} {meaning(Config, f.name, comments)}")
    lines += [
        "",
        "sections: model.*, eval.*, checkpoint.*, wandb.* and each group's own keys (algo.t_max, optim.lr, ...).",
        "  logger=[wandb,tensorboard]          both trackers (logger=tensorboard needs asyncrl[tensorboard])",
        f"  {APP} --cfg job [KEY=VALUE ...]   print the composed config without training",
        f"  {APP} --hydra-help               Hydra's own flags",
        "",
        "Python: asyncrl.make_config(...), asyncrl.train(cfg), asyncrl.Agent.load(run_dir); see help(asyncrl).",
    ]
    return "\n".join(lines)


def _sweep_jobs(overrides: list[str]) -> list[list[str]]:
    """The overrides of each job of a sweep, as Hydra's basic sweeper expands them."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException as exc:
        raise ConfigError(hydra_error_line(exc)) from None
    return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def _fixed_overrides(overrides: list[str]) -> list[str]:
    """``overrides`` without those that give a sweeper a search space (``interval(...)``, ``a,b``, ...)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException as exc:
        raise ConfigError(hydra_error_line(exc)) from None
    return [o.input_line for o in parsed if not o.is_sweep_override() and o.input_line is not None]


def _without_print_flags(argv: list[str]) -> list[str]:
    """``argv`` less Hydra's flags for printing the config and their values."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in PRINT_FLAGS_WITH_VALUE:
            skip = True
        elif not (arg in PRINT_FLAGS or arg.startswith(tuple(f"{flag}=" for flag in PRINT_FLAGS_WITH_VALUE))):
            kept.append(arg)
    return kept


def preflight(argv: list[str]) -> list[DictConfig]:
    """Validate every job's overrides as :func:`asyncrl.make_config` does; ConfigError on the first bad one.

    Returns each job's config, in the order Hydra runs them (none when Hydra
    handles the command itself). Hydra's own settings (``hydra.*``,
    ``hydra/...``) and flags are left to Hydra.
    """
    from asyncrl.api import make_config

    argv = _without_print_flags(argv)
    if any(a.startswith("-") and a not in MULTIRUN_FLAGS for a in argv):
        return []  # -cd, --info, ...: Hydra's business
    overrides = [a for a in argv if a not in MULTIRUN_FLAGS]
    # Hydra's own settings are Hydra's, but for the search path: it changes what composes.
    mine = [o for o in overrides if not o.lstrip("+~").startswith("hydra") or o.startswith("hydra.searchpath=")]
    if any(o.lstrip("+~").startswith("hydra/sweeper") for o in overrides):
        # A sampling sweeper (Optuna) picks each job's values as the study goes: check what every job shares
        # now, and each sampled value as its job starts (a bad one fails that job, and the study goes on).
        make_config(*_fixed_overrides(mine))
        return []
    jobs = _sweep_jobs(mine) if any(a in MULTIRUN_FLAGS for a in argv) else [mine]
    composed: dict[str, DictConfig] = {}
    for job in jobs:
        key = repr(sorted(job))
        if key not in composed:
            composed[key] = make_config(*job)
    return [composed[repr(sorted(job))] for job in jobs]


def check_run_directories(argv: list[str], configs: list[DictConfig]) -> None:
    """Refuse, before Hydra writes its .hydra/ record there, an output directory that cannot be written, or a
    run directory given on the command line that is held by a running run or holds an earlier one
    (RunDirectoryError). A sweep's job directories are checked when they are ``hydra.sweep.dir``/N (Hydra's
    default subdir); without ``hydra.*.dir``, the root of the default directories (conf/config.yaml)."""
    if not configs:
        return
    given = dict(a.split("=", 1) for a in argv if a.startswith(("hydra.run.dir=", "hydra.sweep.dir=",
                                                                 "hydra.sweep.subdir=")))
    if any(a in MULTIRUN_FLAGS for a in argv):
        sweep_dir = given.get("hydra.sweep.dir")
        if sweep_dir is not None and "hydra.sweep.subdir" not in given:
            for num, cfg in enumerate(configs):
                check_free(Path(sweep_dir) / str(num), resume=False, overwrite=cfg.overwrite)
        elif sweep_dir is not None and not all(cfg.overwrite for cfg in configs) and _holds_runs(Path(sweep_dir)):
            # Hydra resolves a subdir of one's own only as each job starts, and writes the job's .hydra/ there
            # before asyncrl could refuse it: refuse the whole sweep now.
            raise RunDirectoryError(f"{sweep_dir} holds runs already, and hydra.sweep.subdir="
                                    f"{given['hydra.sweep.subdir']} names each job's directory only as it starts: "
                                    "give another hydra.sweep.dir (or overwrite=true to replace them)")
        check_writable(Path(sweep_dir or "multirun"), "hydra.sweep.dir")
        return
    cfg = configs[0]
    run_dir = cfg.resume or given.get("hydra.run.dir")
    if run_dir:
        check_free(Path(run_dir), resume=bool(cfg.resume), overwrite=cfg.overwrite)
    check_writable(Path(run_dir or "outputs"), "resume" if cfg.resume else "hydra.run.dir")


def _holds_runs(directory: Path) -> bool:
    """True when ``directory`` or any directory below it holds a run."""
    return directory.is_dir() and any(holds_a_run(d) for d in (directory, *directory.rglob("*")) if d.is_dir())


def _resume_into_same_directory(argv: list[str]) -> list[str]:
    """With resume=DIR, make Hydra write into DIR and leave its .hydra/ as it was."""
    dirs = [arg.split("=", 1)[1] for arg in argv if arg.startswith("resume=")]
    if dirs and dirs[-1] not in ("", "null"):
        return [*argv, f"hydra.run.dir={dirs[-1]}", "hydra.output_subdir=null"]
    return argv


def check_ray_launcher(argv: list[str]) -> None:
    """With ``hydra/launcher=ray_cluster``: the cluster is there and takes this machine, before any job starts.

    Hydra's Ray launcher would otherwise retry for 20 s and end in a traceback.
    """
    if "hydra/launcher=ray_cluster" not in argv:
        return
    key = "hydra.launcher.ray.init.address"
    address = next((a.split("=", 1)[1] for a in argv if a.split("=", 1)[0] == key), "auto")
    try:
        from ray._private.services import canonicalize_bootstrap_address_or_die

        from asyncrl.runtime.ray.driver import TOKEN_HELP, token_refused, why_unreachable
    except ImportError:
        raise ConfigError("hydra/launcher=ray_cluster: Ray is not installed; pip install 'asyncrl[ray]'") from None
    unreachable = why_unreachable(address) if address != "auto" else None
    if unreachable is not None:
        raise ConfigError(f"{key}={address!r}: cannot reach a Ray cluster there ({unreachable})")
    try:
        canonicalize_bootstrap_address_or_die(address)
    except Exception as exc:  # noqa: BLE001 - Ray raises ConnectionError or others when it finds no cluster
        raise ConfigError(f"{key}={address!r}: no running Ray cluster found ({str(exc).splitlines()[0]})") from None
    refused = token_refused(address)
    if refused is not None:
        raise ConfigError(f"{key}={address!r}: the Ray cluster refused this machine ({refused}); {TOKEN_HELP}")


def _sweeper_defaults(argv: list[str]) -> list[str]:
    """With ``hydra/sweeper=optuna``: maximize the score, and let a failed trial fail alone, unless told otherwise.

    Optuna's sweeper minimizes by default and ends the study at the first failed trial.
    """
    if "hydra/sweeper=optuna" not in argv:
        return argv
    given = {arg.split("=", 1)[0].lstrip("+~") for arg in argv}
    return [*argv, *(f"{key}={value}" for key, value in OPTUNA_DEFAULTS.items() if key not in given)]


def _sweep_group() -> str | None:
    """A multirun's jobs share a wandb group named after the sweep directory."""
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode != RunMode.MULTIRUN:
        return None
    return "-".join(Path(hydra_cfg.sweep.dir).parts[-2:])


# The jobs of this invocation's sweep that failed: (run directory, first line of the error).
_failed_jobs: list[tuple[Path, str]] = []
# Each job's config as validated before Hydra started, by job number: the job trains exactly that one.
_validated: list[DictConfig] = []


def _job_failed(run_dir: Path, message: str, code: int, own_directory: bool = True) -> None:
    """A single run exits with ``code``; a sweep records the failure and goes on with its next job.

    ``own_directory``: False when the directory belongs to another run, which gets nothing written.
    Returns no score, which Optuna's sweeper records as a failed trial (a NaN would end its study).
    """
    print(f"error: {message}", file=sys.stderr)
    if HydraConfig.get().mode != RunMode.MULTIRUN:
        sys.exit(code)
    _failed_jobs.append((run_dir, message.splitlines()[0]))
    summary = run_dir / "summary.json"
    if own_directory and not summary.exists():  # failed before training began: say so where the job's files are
        run_dir.mkdir(parents=True, exist_ok=True)
        write_summary(run_dir, {"status": "failed", "finished": False, "error": message, "score": None})
    return None


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def _job(cfg: DictConfig) -> float | None:
    """One job: train into Hydra's output directory and say where it is.

    Returns the run's score (summary.json's ``score``; None for a failed job or a run with no score), the
    number a sweeper such as Optuna optimizes.
    """
    from asyncrl.api import train
    from asyncrl.runtime.runner import WorkerError

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    num = OmegaConf.select(HydraConfig.get(), "job.num", default=0) or 0
    try:
        if num < len(_validated):
            cfg = _validated[num]
            run_dir = Path(cfg.resume) if cfg.resume else run_dir
        elif cfg.resume:
            run_dir = Path(cfg.resume)
            overrides = [o for o in HydraConfig.get().overrides.task if not o.startswith("resume=")]
            cfg, _ = resume_config(run_dir, overrides)
        summary = train(cfg, run_dir, wandb_group=_sweep_group()).summary
    except RunDirectoryError as exc:
        return _job_failed(run_dir, str(exc), 2, own_directory=False)
    except (ConfigError, CheckpointError) as exc:
        return _job_failed(run_dir, str(exc), 2)
    except WorkerError as exc:  # summary.json says failed, with the error
        return _job_failed(run_dir, f"{exc}\nrun directory: {run_dir}", 1)
    except OSError as exc:  # e.g. the disk is full or the directory went read-only
        return _job_failed(run_dir, f"cannot write the run directory {run_dir}: {exc}", 1)
    ret = summary["final_eval_return"]
    ret_text = "-" if ret is None else f"{ret:.1f}"
    sessions = summary["resumes"] + 1  # a resumed run's figures add up every session; time_limit_s limits one
    over = f" over {sessions} sessions" if sessions > 1 else ""
    print(f"{summary['status']}: {summary['global_steps']:,} steps in {summary['wall_s']:.1f} s{over} "
          f"({summary['steps_per_s']:,.0f} steps/s), eval return {ret_text}")
    if sessions > 1:
        print(f"this session: {summary['session_steps']:,} steps in {summary['session_wall_s']:.1f} s")
    print(f"run directory: {run_dir}")
    if summary["status"] == "interrupted":
        sys.exit(130)
    return None if summary["score"] is None else float(summary["score"])


def main(argv: list[str] | None = None) -> int:
    """The ``asyncrl`` console script and ``python -m asyncrl``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    report_plugin_problems()
    if any(a in ("-h", "--help") for a in argv):
        print(help_text())
        return 0
    try:
        register_configs()
        store_configs()
        configs = preflight(argv)
        if _without_print_flags(argv) == argv:  # printing the config writes nothing
            check_ray_launcher(argv)
            check_run_directories(argv, configs)
            _validated[:] = configs
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.argv = [APP, *_sweeper_defaults(_resume_into_same_directory(argv))]
    _job()
    if _failed_jobs:
        listed = "; ".join(f"{run_dir} ({error})" for run_dir, error in _failed_jobs)
        print(f"error: {len(_failed_jobs)} job(s) of the sweep failed: {listed}", file=sys.stderr)
        return 1
    return 0

