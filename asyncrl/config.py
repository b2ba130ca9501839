"""Typed configuration schemas: one dataclass per config node, with its value checks.

Hydra composes the YAML files under ``conf/``; :func:`asyncrl.build.finalize`
then merges the result into these schemas (the algorithm's own schema comes
from its declaration in :mod:`asyncrl.registry`, the env's from ``env.kind``),
so a key that no schema declares, or a value of the wrong type, is refused
however it arrived (``key=``, ``+key=``, ``++key=``, a preset file). Each
schema's :meth:`Schema.check` holds the range checks a type cannot express;
they raise :class:`ConfigError` with one line naming the key.

Sampled values: :func:`register_resolvers` adds the OmegaConf resolver
``${loguniform:LOW,HIGH,KEY}``, a number drawn from LogUniform(LOW, HIGH) that
depends only on KEY (e.g. ``optim.lr='${loguniform:1e-4,1e-2,${seed}}'``,
one learning rate per seed as in the paper's robustness study). The run
resolves it once; ``summary.json`` records the resolved config. Two more
resolvers serve the shipped configs: ``${if_atari:A,B}`` (A on Atari, B on
any other env) and ``${of_total_steps:F}`` (a fraction F of ``total_steps``).

Units: every step count here (``total_steps``, ``target_interval``,
``eps_anneal``) counts *agent steps* summed over all workers. One agent step is
``action_repeat`` frames (4 on Atari, 1 elsewhere).
"""

from __future__ import annotations

import importlib.util
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from omegaconf import MISSING, DictConfig, OmegaConf


class ConfigError(ValueError):
    """Bad input (a key, a value, an option); the message is one line naming it."""


def config_dir() -> Path:
    """The directory of the YAML configs: inside the installed package, or ``conf/`` of a checkout."""
    here = Path(__file__).resolve().parent
    packaged = here / "conf"
    return packaged if packaged.is_dir() else here.parent / "conf"


def require(ok: bool, key: str, message: str, value: Any) -> None:
    """Raise ConfigError ``key=value: message`` unless ``ok``."""
    if not ok:
        raise ConfigError(f"{key}={value!r}: {message}")


def require_choice(value: Any, key: str, choices: Iterable[str]) -> None:
    """Raise ConfigError unless ``value`` is one of ``choices`` (named in the message)."""
    choices = tuple(choices)
    require(value in choices, key, f"must be one of {', '.join(choices)}", value)


class Schema:
    """A config node. ``check`` raises ConfigError naming a key relative to the node."""

    def check(self) -> None:
        """Range checks a type cannot express (keys relative to this node)."""


def check_tree(node: Any, prefix: str = "") -> None:
    """Run ``check`` on ``node`` and every schema below it; keys in errors get their full path."""
    if isinstance(node, Schema):
        try:
            node.check()
        except ConfigError as exc:
            raise ConfigError(f"{prefix}{exc}") from None
    if is_dataclass(node):
        for f in fields(node):
            child = getattr(node, f.name)
            if is_dataclass(child):
                check_tree(child, f"{prefix}{f.name}.")


# --------------------------------------------------------------------------- algorithms


@dataclass
class AlgoConfig(Schema):
    """Fields every algorithm has; an algorithm's schema extends it (see asyncrl.registry)."""

    name: str = MISSING  # the algorithm, as registered; set by the `algo` option chosen
    gamma: float = 0.99  # discount factor

    def check(self) -> None:
        require(0.0 < self.gamma <= 1.0, "gamma", "must be in (0, 1]", self.gamma)


def require_positive(node: Any, *keys: str) -> None:
    """Each of ``keys`` of ``node`` must be >= 1 (step counts)."""
    for key in keys:
        require(getattr(node, key) >= 1, key, "must be >= 1", getattr(node, key))


# --------------------------------------------------------------------------- environments


@dataclass
class EnvConfig(Schema):
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

    @property
    def frames_per_step(self) -> int:
        """Frames one agent step advances (the action repeat)."""
        return 1

    def check(self) -> None:
        require(self.solved_window >= 1, "solved_window", "must be >= 1", self.solved_window)
        require(self.reward_scale > 0, "reward_scale", "must be > 0", self.reward_scale)


@dataclass
class AtariEnvConfig(Schema):
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

    @property
    def frames_per_step(self) -> int:
        """Frames one agent step advances (the action repeat)."""
        return self.frame_skip

    def check(self) -> None:
        require_positive(self, "frame_skip", "frame_stack", "solved_window")
        require(self.noop_max >= 0, "noop_max", "must be >= 0", self.noop_max)
        require(0.0 <= self.repeat_action_probability <= 1.0, "repeat_action_probability", "must be in [0, 1]",
                self.repeat_action_probability)
        if self.clip_rewards is not None:
            require(self.clip_rewards > 0, "clip_rewards", "must be > 0 or null", self.clip_rewards)


# The env families: ``env.kind`` picks the schema.
ENV_SCHEMAS: dict[str, type[Schema]] = {"gym": EnvConfig, "atari": AtariEnvConfig}

# --------------------------------------------------------------------------- the rest

OPTIMIZERS = ("rmsprop", "rmsprop_shared", "sgd_momentum")
RUNTIMES = ("processes", "threads", "ray")
SYNC_UNITS = ("steps", "seconds")
ANNEAL_OVER = ("steps", "budget")
LR_SCALINGS = ("none", "sqrt")
PROGRESS_MODES = ("auto", "bar", "log", "off")
WANDB_MODES = ("online", "offline", "disabled")
ACTIVATIONS = ("tanh", "relu")


@dataclass
class OptimConfig(Schema):
    """A shared optimizer (paper section 4 and supplementary section 7).

    ``name`` is the variant, as the option that chose it is named:
    ``rmsprop`` (statistics per worker), ``rmsprop_shared`` (the paper's
    shared statistics) or ``sgd_momentum``; ``alpha`` is RMSProp's decay or
    the momentum coefficient; ``shared_stats`` puts the statistics in shared
    memory for all workers instead of one copy per worker.
    """

    name: str = "rmsprop"  # rmsprop | rmsprop_shared (requires shared_stats=true) | sgd_momentum
    lr: float = 7e-4  # learning rate at step 0
    alpha: float = 0.99  # RMSProp's decay of the squared-gradient average, or the momentum coefficient
    eps: float = 0.1  # RMSProp's epsilon, inside the square root (unused by sgd_momentum)
    shared_stats: bool = True  # one statistics tensor in shared memory for all workers (RMSProp only)
    anneal_lr: bool = True  # lr falls linearly to 0 over the run (see anneal_over)
    # Over what the lr anneals: steps (to 0 at total_steps, the paper) | budget (to 0 when the first
    # of total_steps and time_limit_s runs out: a run on a time budget ends with its lr at 0).
    anneal_over: str = "steps"
    # lr x sqrt(envs_per_worker) (sqrt) or lr as given (none): a worker stepping K envs updates
    # with K segments at once, a K-times larger batch.
    lr_scaling: str = "none"
    grad_clip: float | None = 40.0  # each update's gradient norm is clipped to this (null: no clipping)
    # The lr rises linearly from 0 over this many global steps before the schedule above (0: none, the paper).
    warmup_steps: int = 0

    def check(self) -> None:
        require_choice(self.name, "name", OPTIMIZERS)
        require(self.name != "rmsprop_shared" or self.shared_stats, "shared_stats",
                "optim=rmsprop_shared shares its statistics; for per-worker statistics use optim=rmsprop",
                self.shared_stats)
        require(self.lr > 0, "lr", "must be > 0", self.lr)
        require_choice(self.anneal_over, "anneal_over", ANNEAL_OVER)
        require_choice(self.lr_scaling, "lr_scaling", LR_SCALINGS)
        require(0.0 <= self.alpha < 1.0, "alpha", "must be in [0, 1)", self.alpha)
        require(self.eps > 0, "eps", "must be > 0", self.eps)
        require(self.warmup_steps >= 0, "warmup_steps", "must be >= 0", self.warmup_steps)
        if self.grad_clip is not None:
            require(self.grad_clip > 0, "grad_clip", "must be > 0 or null", self.grad_clip)


@dataclass
class RuntimeConfig(Schema):
    """How actor-learners run: ``processes`` (default), ``threads`` or ``ray``.

    ``ray`` runs ``groups`` Hogwild groups of ``workers`` worker processes
    each, one Ray actor per group spread over the cluster's nodes, and a
    parameter-server actor holding the global parameters, the target network
    and the global step (``pip install asyncrl[ray]``; docs/cluster.md).
    """

    kind: str = "processes"  # processes (one OS process per worker) | threads | ray
    # Seconds between the aggregated training records each worker sends.
    report_interval_s: float = 2.0
    # Seconds the main process waits for workers to stop before killing them.
    join_timeout_s: float = 10.0
    # A running worker that sends no record for this long is reported as stuck and the run stops.
    heartbeat_timeout_s: float = 120.0
    # A worker that has not finished starting (imports, envs, network) after this long stops the run.
    startup_timeout_s: float = 600.0
    # Updates with a non-finite loss or gradient are skipped and counted; this many in a
    # row from one worker stop the run.
    max_nonfinite_updates: int = 20
    # runtime=ray: the cluster to join: null starts a local Ray instance; auto or HOST:PORT
    # joins one started with `ray start --head`.
    address: str | None = None
    groups: int = 1  # runtime=ray: Hogwild groups (Ray actors); the run has groups x workers actor-learners
    # runtime=ray: a group exchanges with the parameter server every sync_interval sync_unit.
    sync_interval: float = 500.0
    sync_unit: str = "steps"  # runtime=ray: steps (the group's own agent steps) | seconds
    max_group_restarts: int = 3  # runtime=ray: restarts of a group that died before the run fails
    object_store_mb: int = 256  # runtime=ray with address=null: the local instance's object store

    def check(self) -> None:
        require_choice(self.kind, "kind", RUNTIMES)
        require_positive(self, "groups")
        require(self.sync_interval > 0, "sync_interval", "must be > 0", self.sync_interval)
        require_choice(self.sync_unit, "sync_unit", SYNC_UNITS)
        require(self.max_group_restarts >= 0, "max_group_restarts", "must be >= 0", self.max_group_restarts)
        require(self.object_store_mb >= 80, "object_store_mb", "must be >= 80 (Ray's minimum)", self.object_store_mb)
        if self.kind == "ray" and importlib.util.find_spec("ray") is None:
            raise ConfigError("runtime=ray: Ray is not installed; pip install 'asyncrl[ray]'")
        require(self.report_interval_s > 0, "report_interval_s", "must be > 0", self.report_interval_s)
        require(self.heartbeat_timeout_s > self.report_interval_s, "heartbeat_timeout_s",
                "must be longer than runtime.report_interval_s", self.heartbeat_timeout_s)
        require(self.startup_timeout_s > 0, "startup_timeout_s", "must be > 0", self.startup_timeout_s)
        require_positive(self, "max_nonfinite_updates")


@dataclass
class ModelConfig(Schema):
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

    def check(self) -> None:
        require(len(self.hidden) >= 1 and all(h >= 1 for h in self.hidden), "hidden",
                "must be a non-empty list of positive sizes", list(self.hidden))
        require_choice(self.activation, "activation", ACTIVATIONS)
        require_positive(self, "lstm_size")


@dataclass
class EvalConfig(Schema):
    """Evaluation by the main process, in a background thread.

    Every ``interval`` global steps (0: only at the end) on a snapshot of the
    shared network, so workers never wait for it; and once at the end, which
    prints each episode as it ends. The policy is the algorithm's evaluation
    policy unless ``deterministic``: A3C samples from its policy (as it
    acted while learning); the value-based methods act epsilon-greedily with
    epsilon 0.05 (DQN's evaluation protocol).
    """

    interval: int = 0  # global steps between evaluations (0: only at the end)
    episodes: int = 10  # episodes per evaluation (0: no evaluation)
    # An evaluation episode ends after this much game time: 18,000 frames = 5 minutes at the
    # ALE's 60 frames/s (DQN's protocol). Frames = agent steps x frames_per_step (1 off Atari).
    max_episode_frames: int = 18_000
    # No new evaluation episode starts once this many agent steps are played (null: as many as
    # the run has trained, so a short run's evaluation stays short, but never fewer than one
    # episode's bound, max_episode_frames / the frame skip).
    max_steps: int | None = None
    deterministic: bool = False  # true: greedy actions instead of the evaluation policy

    def check(self) -> None:
        require(self.episodes >= 0, "episodes", "must be >= 0", self.episodes)
        require(self.interval >= 0, "interval", "must be >= 0 (0: only at the end)", self.interval)
        require_positive(self, "max_episode_frames")
        if self.max_steps is not None:
            require(self.max_steps >= 1, "max_steps", "must be >= 1 or null", self.max_steps)


@dataclass
class CheckpointConfig(Schema):
    """``checkpoint.pt`` every ``interval`` global steps (0: only at the end)."""

    interval: int = 0  # global steps between checkpoints (0: only at the end)

    def check(self) -> None:
        require(self.interval >= 0, "interval", "must be >= 0 (0: only at the end)", self.interval)


@dataclass
class LoggerConfig(Schema):
    """Where a run's metrics go besides metrics.jsonl and summary.json (the `logger` group sets it).

    ``logger=wandb``, ``logger=tensorboard``, or both: ``logger=[wandb,tensorboard]``.
    """

    wandb: bool = False  # Weights & Biases (settings: wandb.*)
    tensorboard: bool = False  # TensorBoard event files in the run directory (the asyncrl[tensorboard] extra)

    def check(self) -> None:
        if self.tensorboard:
            try:
                import tensorboard  # noqa: F401 - torch.utils.tensorboard writes through it
            except ImportError:
                raise ConfigError("tensorboard: TensorBoard is not installed; "
                                  "pip install 'asyncrl[tensorboard]'") from None


@dataclass
class WandbConfig(Schema):
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

    def check(self) -> None:
        require_choice(self.mode, "mode", WANDB_MODES)


@dataclass
class Config(Schema):
    """The whole run. Group nodes are typed by the schema each option names."""

    algo: Any = MISSING
    env: Any = MISSING
    optim: OptimConfig = field(default_factory=OptimConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    wandb: WandbConfig = field(default_factory=WandbConfig)
    # A run directory to continue from its checkpoint.pt (global step, schedules,
    # optimizer statistics); its metrics.jsonl is appended to.
    resume: str | None = None
    # Train into a run directory that holds an earlier run, deleting that run's metrics,
    # summary and checkpoint first. Without it such a directory is refused.
    overwrite: bool = False
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
    # The settings profile the run was composed with (the `profile` group): paper | fast.
    profile: str = "paper"

    def check(self) -> None:
        require_positive(self, "workers", "total_steps", "envs_per_worker")
        require(self.time_limit_s >= 0, "time_limit_s", "must be >= 0 (0: no limit)", self.time_limit_s)
        require_choice(self.progress, "progress", PROGRESS_MODES)


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


def if_atari(atari_value: Any, other_value: Any, *, _root_: DictConfig) -> Any:
    """``atari_value`` when the run's env is an Atari game (``env.kind=atari``), else ``other_value``.

    A profile (``conf/profile/``) uses it for settings that only suit Atari:
    ``envs_per_worker: ${if_atari:8,1}``.
    """
    return atari_value if OmegaConf.select(_root_, "env.kind", default="gym") == "atari" else other_value


def of_total_steps(fraction: float, *, _root_: DictConfig) -> int:
    """``fraction`` of the run's ``total_steps``, in agent steps (at least 1).

    A schedule written ``eps_anneal: ${of_total_steps:0.1}`` lasts the first tenth of
    whatever budget the run has, so a short run still explores and then exploits;
    a number of steps given instead (``algo.eps_anneal=20000``) stands as it is.
    """
    return max(1, round(float(fraction) * int(_root_.total_steps)))


def register_resolvers() -> None:
    """Register asyncrl's OmegaConf resolvers (``loguniform``, ``if_atari``, ``of_total_steps``); safe to call twice."""
    if not OmegaConf.has_resolver("loguniform"):
        OmegaConf.register_new_resolver("loguniform", loguniform)
    if not OmegaConf.has_resolver("of_total_steps"):
        OmegaConf.register_new_resolver("of_total_steps", of_total_steps)
    if not OmegaConf.has_resolver("if_atari"):
        OmegaConf.register_new_resolver("if_atari", if_atari)


def register_configs() -> None:
    """The root schema in Hydra's ConfigStore (``conf/config.yaml`` extends it); the resolvers."""
    from hydra.core.config_store import ConfigStore

    register_resolvers()
    store = ConfigStore.instance()
    store.store(name="config_schema", node=Config)
    # Each env option extends its family's schema (`- /schema/env/gym@_here_` in its defaults), so every
    # declared key has its default in the composed node and can be set as `env.key=value`.
    for kind, schema in ENV_SCHEMAS.items():
        store.store(group="schema/env", name=kind, node=schema)


def to_plain(cfg: DictConfig | Schema) -> dict[str, Any]:
    """The resolved config as plain Python containers (picklable, JSON-able)."""
    node = cfg if isinstance(cfg, DictConfig) else OmegaConf.structured(cfg)
    return OmegaConf.to_container(node, resolve=True)  # type: ignore[return-value]
