"""Typed configuration schemas, registered in Hydra's ConfigStore.

Every YAML file under ``conf/`` starts from one of these dataclasses (its
defaults list names the schema), so OmegaConf rejects unknown keys and wrong
types while composing. Value ranges that a type cannot express are checked by
:func:`validate`, which runs in the main process before any worker starts and
raises :class:`ConfigError` with one line naming the key.

Sampled values: :func:`register_resolvers` adds the OmegaConf resolver
``${loguniform:LOW,HIGH,KEY}``, a number drawn from LogUniform(LOW, HIGH) that
depends only on KEY (e.g. ``optim.lr='${loguniform:1e-4,1e-2,${seed}}'``,
one learning rate per seed as in the paper's robustness study). The run
resolves it once; ``summary.json`` records the resolved config.

Units: every step count here (``total_steps``, ``target_interval``,
``eps_anneal``) counts *agent steps* summed over all workers. One agent step is
``action_repeat`` frames (4 on Atari, 1 elsewhere).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError


class ConfigError(ValueError):
    """A config value is out of range; the message names the key."""


# --------------------------------------------------------------------------- algorithms


@dataclass
class A3CConfig:
    """Asynchronous advantage actor-critic (paper Algorithm S3)."""

    name: str = "a3c"  # the learner; set by the option chosen
    gamma: float = 0.99  # discount factor
    t_max: int = 5  # agent steps per segment: each update uses up to t_max-step returns
    entropy_beta: float = 0.01  # weight of the policy-entropy bonus (beta)
    value_loss_coef: float = 0.5  # weight of the value loss (R - V)^2 against the policy loss


@dataclass
class ValueConfig:
    """Fields shared by the three value-based methods."""

    name: str = MISSING  # the learner; set by the option chosen
    gamma: float = 0.99  # discount factor
    # Global agent steps between target syncs (paper: 40,000 frames = 10,000 steps).
    target_interval: int = 10_000
    loss: str = "squared"  # squared (paper) | huber
    # Global agent steps over which epsilon goes from 1 to a worker's final value
    # (paper: 4 million frames = 1 million agent steps).
    eps_anneal: int = 1_000_000
    # Each worker draws its final epsilon once from eps_finals, with probabilities eps_probs.
    eps_finals: list[float] = field(default_factory=lambda: [0.1, 0.01, 0.5])
    eps_probs: list[float] = field(default_factory=lambda: [0.4, 0.3, 0.3])  # one per entry of eps_finals


@dataclass
class OneStepConfig(ValueConfig):
    """One-step Q-learning (paper Algorithm 1) and one-step Sarsa."""

    name: str = "one_step_q"  # one_step_q | one_step_sarsa
    # A worker applies its accumulated gradient every update_interval steps (and at episode end).
    update_interval: int = 5


@dataclass
class NStepQConfig(ValueConfig):
    """n-step Q-learning (paper Algorithm S2)."""

    name: str = "nstep_q"
    t_max: int = 5  # agent steps per segment: each update uses up to t_max-step returns


ALGOS = ("a3c", "one_step_q", "one_step_sarsa", "nstep_q")

# --------------------------------------------------------------------------- environments


@dataclass
class EnvConfig:
    """A gymnasium environment with a vector observation."""

    name: str = "gym"  # a label for the option (plots and run names use env.id)
    kind: str = "gym"  # the env family: gym (vector observations) or atari
    id: str = MISSING  # a registered gymnasium id with discrete actions and a vector observation
    max_episode_steps: int | None = None  # time limit passed to gymnasium.make (null: the id's own)
    # A run counts as solved when the mean return of the last ``solved_window``
    # training episodes reaches ``solved_return`` (null: never).
    solved_return: float | None = None
    solved_window: int = 20  # training episodes in the solved check's mean (and the progress display's)
    # Learning rewards are multiplied by this (episode returns stay the env's own).
    reward_scale: float = 1.0


@dataclass
class AtariEnvConfig:
    """An Atari game through ale-py with the paper's preprocessing.

    ``repeat_action_probability`` (sticky actions) is 0 as in the paper; ALE
    v5 itself defaults to 0.25. Episodes are whole games (all lives), capped
    at ALE's default of 108,000 frames.
    """

    name: str = "atari"  # a label for the option (plots and run names use ALE/<game>-v5)
    kind: str = "atari"  # the env family: atari
    game: str = MISSING  # as ale-py names it: Breakout, Pong, BeamRider, ...
    frame_skip: int = 4  # action repeat; frames = agent steps x frame_skip
    frame_stack: int = 4  # the observation: the last frame_stack 84x84 grey frames
    noop_max: int = 30  # up to this many no-op actions at the start of each episode
    repeat_action_probability: float = 0.0  # sticky actions (ALE v5's default is 0.25)
    full_action_space: bool = False  # all 18 actions instead of the game's minimal set
    clip_rewards: float | None = 1.0  # learning rewards clipped to [-c, c]; null: unclipped
    life_loss_terminal: bool = True  # a lost life ends the training segment as terminal
    # Not read by the Atari stack: episodes end at ALE's own cap of 108,000 frames.
    max_episode_steps: int | None = None
    # A run counts as solved when the mean return of the last ``solved_window``
    # training games reaches ``solved_return`` (null: never).
    solved_return: float | None = None
    solved_window: int = 100  # training games in the solved check's mean


# --------------------------------------------------------------------------- the rest


@dataclass
class OptimConfig:
    """A shared optimizer (paper section 4 and supplementary section 7).

    ``name`` is ``rmsprop`` or ``sgd_momentum``; ``alpha`` is RMSProp's decay or
    the momentum coefficient; ``shared_stats`` puts the statistics in shared
    memory for all workers instead of one copy per worker.
    """

    name: str = "rmsprop"  # rmsprop | sgd_momentum
    lr: float = 7e-4  # learning rate at step 0
    alpha: float = 0.99  # RMSProp's decay of the squared-gradient average, or the momentum coefficient
    eps: float = 0.1  # RMSProp's epsilon, inside the square root (unused by sgd_momentum)
    shared_stats: bool = True  # one statistics tensor in shared memory for all workers (RMSProp only)
    anneal_lr: bool = True  # lr falls linearly to 0 at total_steps
    grad_clip: float | None = 40.0  # each update's gradient norm is clipped to this (null: no clipping)


@dataclass
class RuntimeConfig:
    """How actor-learners run: ``processes`` (default) or ``threads``."""

    kind: str = "processes"  # processes (one OS process per worker) | threads
    # Seconds between the aggregated training records each worker sends.
    report_interval_s: float = 2.0
    # Seconds the main process waits for workers to stop before killing them.
    join_timeout_s: float = 10.0
    # A worker that sends no record for this long is reported as stuck and the run stops.
    heartbeat_timeout_s: float = 120.0
    # Updates with a non-finite loss or gradient are skipped and counted; this many in a
    # row from one worker stop the run.
    max_nonfinite_updates: int = 20


@dataclass
class ModelConfig:
    """The network: an MLP body for vectors (the paper's CNN for Atari frames)."""

    hidden: list[int] = field(default_factory=lambda: [64, 64])  # MLP layer sizes (Atari frames: the CNN)
    activation: str = "tanh"  # tanh | relu
    # A3C-LSTM: an LSTM of ``lstm_size`` cells after the last hidden layer.
    lstm: bool = False
    lstm_size: int = 256  # LSTM cells (with lstm=true)
    # A value network with its own body (and LSTM) instead of sharing the policy's.
    # null: the paper's choice, separate for Box (continuous) action spaces, shared
    # for discrete ones; true is supported for Box action spaces only.
    separate_value: bool | None = None


@dataclass
class EvalConfig:
    """Greedy evaluation by the main process, in a background thread.

    Every ``interval`` global steps (0: only at the end) on a snapshot of the
    shared network, so workers never wait for it; and once at the end.
    """

    interval: int = 0  # global steps between evaluations (0: only at the end)
    episodes: int = 10  # greedy episodes per evaluation (0: no evaluation)
    max_episode_steps: int = 10_000  # an evaluation episode is cut off after this many steps


@dataclass
class CheckpointConfig:
    """``checkpoint.pt`` every ``interval`` global steps (0: only at the end)."""

    interval: int = 0  # global steps between checkpoints (0: only at the end)


@dataclass
class WandbConfig:
    """Weights & Biases settings, used with ``logger=wandb``.

    ``mode=online`` falls back to offline, with a warning, when no API key or
    no connection to the server is found within a few seconds. ``group``
    defaults to the sweep's name in a Hydra multirun, so its jobs share it.
    """

    mode: str = "offline"  # online | offline | disabled
    project: str = "asyncrl"  # the wandb project
    entity: str | None = None  # the wandb team or user (null: your default)
    group: str | None = None  # runs shown together (null: the sweep's name in a multirun)
    tags: list[str] = field(default_factory=list)  # wandb tags


@dataclass
class Config:
    """The whole run. Group nodes are typed by the schema each option names."""

    algo: Any = MISSING
    env: Any = MISSING
    optim: OptimConfig = field(default_factory=OptimConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    logger: str = "none"  # none | wandb (the `logger` group sets it)
    wandb: WandbConfig = field(default_factory=WandbConfig)
    # A run directory to continue from its checkpoint.pt (global step, schedules,
    # optimizer statistics); its metrics.jsonl is appended to.
    resume: str | None = None
    workers: int = 2  # actor-learners (processes or threads)
    # Environments each worker steps side by side, acting on all in one batched
    # forward and learning from their segments together. 1 is the paper's algorithm.
    envs_per_worker: int = 1
    seed: int = 0  # seeds the initial network; each worker's seed and env seeds derive from it
    total_steps: int = 300_000  # agent steps summed over all workers, then the run stops
    stop_when_solved: bool = True  # stop as soon as the env's solved criterion is met
    # Wall-clock seconds this invocation may train (start-up included), then it stops as
    # if its step budget were spent (status finished); 0: no limit. For runs on a time budget.
    time_limit_s: float = 0.0
    progress: str = "auto"  # auto | bar | log | off


def loguniform(low: float, high: float, key: Any) -> float:
    """A number drawn from LogUniform(low, high), determined by ``key`` alone.

    The same key gives the same number in every process and Python 3 version
    (``random.Random`` seeded with ``str(key)``), so a sweep over seeds samples
    one value per seed, reproducibly.
    """
    low, high = float(low), float(high)
    if not 0.0 < low < high:
        raise ConfigError(f"loguniform needs 0 < low < high, got low={low}, high={high}")
    u = random.Random(str(key)).random()
    return math.exp(math.log(low) + u * (math.log(high) - math.log(low)))


def register_resolvers() -> None:
    """Register asyncrl's OmegaConf resolvers (``loguniform``); safe to call twice."""
    if not OmegaConf.has_resolver("loguniform"):
        OmegaConf.register_new_resolver("loguniform", loguniform)


def register_configs() -> None:
    """Put the schemas in Hydra's ConfigStore (YAML files extend them by name); register resolvers."""
    register_resolvers()
    cs = ConfigStore.instance()
    cs.store(name="config_schema", node=Config)
    cs.store(group="algo", name="a3c_schema", node=A3CConfig)
    cs.store(group="algo", name="one_step_schema", node=OneStepConfig)
    cs.store(group="algo", name="nstep_q_schema", node=NStepQConfig)
    cs.store(group="env", name="gym_schema", node=EnvConfig)
    cs.store(group="env", name="atari_schema", node=AtariEnvConfig)
    cs.store(group="optim", name="optim_schema", node=OptimConfig)
    cs.store(group="runtime", name="runtime_schema", node=RuntimeConfig)


# --------------------------------------------------------------------------- validation


def _require(ok: bool, key: str, message: str, value: Any) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r}: {message}")


def _check_algo(algo: DictConfig) -> None:
    _require(algo.name in ALGOS, "algo.name", f"must be one of {', '.join(ALGOS)}", algo.name)
    _require(0.0 < algo.gamma <= 1.0, "algo.gamma", "must be in (0, 1]", algo.gamma)
    for key in ("t_max", "update_interval", "target_interval", "eps_anneal"):
        if key in algo:
            _require(algo[key] >= 1, f"algo.{key}", "must be >= 1", algo[key])
    if "entropy_beta" in algo:
        _require(algo.entropy_beta >= 0, "algo.entropy_beta", "must be >= 0", algo.entropy_beta)
        _require(algo.value_loss_coef > 0, "algo.value_loss_coef", "must be > 0", algo.value_loss_coef)
    if "loss" in algo:
        _require(algo.loss in ("squared", "huber"), "algo.loss", "must be squared or huber", algo.loss)
    if "eps_finals" in algo:
        finals, probs = list(algo.eps_finals), list(algo.eps_probs)
        _require(len(finals) == len(probs) > 0, "algo.eps_probs",
                 "needs one probability per entry of algo.eps_finals", probs)
        _require(all(0.0 <= e <= 1.0 for e in finals), "algo.eps_finals", "must lie in [0, 1]", finals)
        _require(all(p >= 0 for p in probs) and math.isclose(sum(probs), 1.0, abs_tol=1e-6),
                 "algo.eps_probs", "must be >= 0 and sum to 1", probs)


def _check_optim(optim: DictConfig) -> None:
    names = ("rmsprop", "sgd_momentum")
    _require(optim.name in names, "optim.name", f"must be one of {', '.join(names)}", optim.name)
    _require(optim.lr > 0, "optim.lr", "must be > 0", optim.lr)
    _require(0.0 <= optim.alpha < 1.0, "optim.alpha", "must be in [0, 1)", optim.alpha)
    _require(optim.eps > 0, "optim.eps", "must be > 0", optim.eps)
    if optim.grad_clip is not None:
        _require(optim.grad_clip > 0, "optim.grad_clip", "must be > 0 or null", optim.grad_clip)


def _check_resolves(cfg: DictConfig) -> None:
    """Every interpolation (e.g. ``${loguniform:...}``) resolves, or one line naming the key."""
    try:
        OmegaConf.to_container(cfg, resolve=True)
    except InterpolationResolutionError as exc:
        cause = exc.__cause__ if exc.__cause__ is not None else str(exc).splitlines()[0]
        raise ConfigError(f"{exc.full_key}: cannot resolve: {cause}") from None


def validate(cfg: DictConfig) -> None:
    """Check value ranges the schema types cannot express; raise ConfigError."""
    _check_resolves(cfg)
    _require(cfg.workers >= 1, "workers", "must be >= 1", cfg.workers)
    _require(cfg.total_steps >= 1, "total_steps", "must be >= 1", cfg.total_steps)
    _require(cfg.envs_per_worker >= 1, "envs_per_worker", "must be >= 1", cfg.envs_per_worker)
    _require(cfg.time_limit_s >= 0, "time_limit_s", "must be >= 0 (0: no limit)", cfg.time_limit_s)
    _require(cfg.progress in ("auto", "bar", "log", "off"), "progress",
             "must be one of auto, bar, log, off", cfg.progress)
    _check_algo(cfg.algo)
    _check_optim(cfg.optim)
    kinds = ("processes", "threads")
    _require(cfg.runtime.kind in kinds, "runtime.kind", "must be processes or threads", cfg.runtime.kind)
    _require(cfg.runtime.report_interval_s > 0, "runtime.report_interval_s", "must be > 0",
             cfg.runtime.report_interval_s)
    _require(cfg.runtime.heartbeat_timeout_s > cfg.runtime.report_interval_s, "runtime.heartbeat_timeout_s",
             "must be longer than runtime.report_interval_s", cfg.runtime.heartbeat_timeout_s)
    _require(cfg.runtime.max_nonfinite_updates >= 1, "runtime.max_nonfinite_updates", "must be >= 1",
             cfg.runtime.max_nonfinite_updates)
    _require(cfg.eval.episodes >= 0, "eval.episodes", "must be >= 0", cfg.eval.episodes)
    _require(cfg.eval.interval >= 0, "eval.interval", "must be >= 0 (0: only at the end)", cfg.eval.interval)
    _require(cfg.checkpoint.interval >= 0, "checkpoint.interval", "must be >= 0 (0: only at the end)",
             cfg.checkpoint.interval)
    _require(cfg.logger in ("none", "wandb"), "logger", "must be none or wandb", cfg.logger)
    _require(cfg.wandb.mode in ("online", "offline", "disabled"), "wandb.mode",
             "must be online, offline or disabled", cfg.wandb.mode)
    _require(len(cfg.model.hidden) >= 1 and all(h >= 1 for h in cfg.model.hidden),
             "model.hidden", "must be a non-empty list of positive sizes", list(cfg.model.hidden))
    _require(cfg.model.activation in ("tanh", "relu"), "model.activation", "must be tanh or relu",
             cfg.model.activation)
    _require(cfg.env.solved_window >= 1, "env.solved_window", "must be >= 1", cfg.env.solved_window)
    if "reward_scale" in cfg.env:
        _require(cfg.env.reward_scale > 0, "env.reward_scale", "must be > 0", cfg.env.reward_scale)
    _require(not cfg.model.lstm or cfg.algo.name == "a3c", "model.lstm",
             "a recurrent model is supported by algo=a3c only", cfg.model.lstm)
    _require(cfg.model.lstm_size >= 1, "model.lstm_size", "must be >= 1", cfg.model.lstm_size)
    if cfg.env.kind == "atari":
        _check_atari(cfg.env)


def _check_atari(env: DictConfig) -> None:
    for key in ("frame_skip", "frame_stack"):
        _require(env[key] >= 1, f"env.{key}", "must be >= 1", env[key])
    _require(env.noop_max >= 0, "env.noop_max", "must be >= 0", env.noop_max)
    _require(0.0 <= env.repeat_action_probability <= 1.0, "env.repeat_action_probability",
             "must be in [0, 1]", env.repeat_action_probability)
    if env.clip_rewards is not None:
        _require(env.clip_rewards > 0, "env.clip_rewards", "must be > 0 or null", env.clip_rewards)


def to_plain(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config as plain Python containers (picklable, JSON-able)."""
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
