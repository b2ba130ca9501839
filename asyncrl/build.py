"""The composition root: overrides -> a validated, typed config -> a run's parts.

Every entry point goes through here: the command line, :func:`asyncrl.make_config`
and :func:`asyncrl.train`, the workers of every runtime, evaluation and
:meth:`asyncrl.Agent.load`. So composition, validation and the way a network,
a learner and an optimizer are built cannot differ between them.

- :func:`compose`: Hydra's composition of ``conf/config.yaml`` (tuned presets
  included), with Hydra's errors turned into one-line :class:`ConfigError`.
- :func:`typed_config`: the composed config merged into the schemas (the
  algorithm's from the registry, the env's by ``env.kind``), resolved and
  checked. An undeclared key or a bad value is a ConfigError naming it.
- :func:`build_run`: the typed config, its algorithm and the env's spaces
  (checked against what the algorithm can act in), as :class:`RunParts`,
  which builds the network, learner, optimizer and envs on demand.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError, MissingMandatoryValue, OmegaConfBaseException
from torch import Tensor, nn

from asyncrl.config import (
    ENV_SCHEMAS,
    Config,
    ConfigError,
    check_tree,
    config_dir,
    register_configs,
    register_resolvers,
)
from asyncrl.envs import BatchEnv, check_env_config, make_batch_env
from asyncrl.learners.base import Learner
from asyncrl.optim import LinearDecay, SharedOptimizer, build_optimizer
from asyncrl.registry import Algorithm, algorithms, get_algorithm, left_out, store_configs

CONFIG_NAME = "config"


def compose(overrides: Sequence[str]) -> DictConfig:
    """``conf/config.yaml`` composed with ``overrides`` exactly as the command line composes it."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException

    register_configs()
    store_configs()
    if GlobalHydra.instance().is_initialized():  # e.g. called from inside a Hydra app
        GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3", job_name="asyncrl"):
        try:
            return hydra_compose(CONFIG_NAME, overrides=list(overrides))
        except HydraException as exc:
            raise ConfigError(hydra_error_line(exc)) from None


def group_options(group: str) -> list[str]:
    """The options of a config group: its YAML files, and for ``algo`` every registered algorithm."""
    options = {path.stem for path in (config_dir() / group).glob("*.yaml")}
    if group == "algo":
        options |= set(algorithms())
    return sorted(options)


def hydra_error_line(exc: Exception) -> str:
    """One line for an error Hydra raised while composing (its own messages span several)."""
    from hydra.errors import MissingConfigException

    if isinstance(exc, MissingConfigException) and exc.missing_cfg_file:
        group, _, option = exc.missing_cfg_file.rpartition("/")
        why = left_out(option) if group == "algo" else None
        if why is not None:  # a plugin left out: say why
            return f"algo={option!r}: {why}"
        if group:
            return f"{group}={option!r}: no such option; one of {', '.join(exc.options or group_options(group))}"
        return f"no config named {exc.missing_cfg_file!r}"
    cause = exc.__cause__
    key = getattr(cause, "full_key", None)
    if isinstance(cause, OmegaConfBaseException) and key:
        return f"{key}: {undeclared_or_first_line(cause)}"
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if first.startswith("Ambiguous value"):
        first += " (a sweep needs -m; a list is written [a,b])"
    return first


def undeclared_or_first_line(exc: Exception) -> str:
    """'not a config option' for a key no schema declares, else the error's first line."""
    if isinstance(exc, MissingMandatoryValue):
        return "no value given, and it has no default"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "not in struct" in text or ("Key '" in text and "not in" in text):
        return "not a config option (no schema declares it)"
    return text


def schema_for(cfg: DictConfig) -> DictConfig:
    """The schema this config must fit: the root with its algorithm's and env family's schemas in place."""
    algo_name = OmegaConf.select(cfg, "algo.name", default=None)
    if not isinstance(algo_name, str):
        raise ConfigError("algo.name: missing; choose an algorithm with algo=<name>")
    kind = OmegaConf.select(cfg, "env.kind", default="gym")
    if kind not in ENV_SCHEMAS:
        raise ConfigError(f"env.kind={kind!r}: must be one of {', '.join(ENV_SCHEMAS)}")
    schema = OmegaConf.structured(Config)
    schema.algo = OmegaConf.structured(get_algorithm(algo_name).schema)
    schema.env = OmegaConf.structured(ENV_SCHEMAS[kind])
    return schema


# Each config finalize returned, by id: the config and its values then. One given back unchanged is final
# already, so a run is finalized once however many entry points it passes (and samples drawn by
# ${loguniform:...} stay the ones validated).
_finalized: dict[int, tuple[weakref.ref[DictConfig], dict[str, Any]]] = {}


def _final_already(cfg: Any) -> bool:
    entry = _finalized.get(id(cfg))
    return entry is not None and entry[0]() is cfg and OmegaConf.to_container(cfg) == entry[1]


def finalize(cfg: DictConfig | Mapping[str, Any] | Config) -> DictConfig:
    """The config merged into its schemas, interpolations resolved, every value checked.

    Returns a typed, struct DictConfig (assignments are type-checked); given
    such a config back unchanged, returns it as it is. Raises ConfigError
    with one line naming the bad key or value.
    """
    if isinstance(cfg, DictConfig) and _final_already(cfg):
        return cfg
    merged = _merge_and_check(cfg)
    key = id(merged)
    _finalized[key] = (weakref.ref(merged, lambda _: _finalized.pop(key, None)), OmegaConf.to_container(merged))
    return merged


def _merge_and_check(cfg: DictConfig | Mapping[str, Any] | Config) -> DictConfig:
    if isinstance(cfg, Config):
        cfg = OmegaConf.structured(cfg)
    elif not isinstance(cfg, DictConfig):
        cfg = OmegaConf.create(dict(cfg))
    register_resolvers()
    try:
        plain = OmegaConf.to_container(cfg, resolve=True)
    except InterpolationResolutionError as exc:
        cause = exc.__cause__ if exc.__cause__ is not None else str(exc).splitlines()[0]
        raise ConfigError(f"{exc.full_key}: cannot resolve: {cause}") from None
    plain_cfg = OmegaConf.create(plain)
    try:
        merged = OmegaConf.merge(schema_for(plain_cfg), plain_cfg)
        typed: Config = OmegaConf.to_object(merged)  # type: ignore[assignment]
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or "config"
        raise ConfigError(f"{key}: {undeclared_or_first_line(exc)}") from None
    check_tree(typed)
    algorithm = get_algorithm(typed.algo.name)
    if typed.model.lstm and not algorithm.recurrent:
        raise ConfigError(f"model.lstm=True: a recurrent model is not supported by algo={algorithm.name}")
    OmegaConf.set_struct(merged, True)
    return merged


def typed_config(cfg: DictConfig | Mapping[str, Any] | Config) -> Config:
    """:func:`finalize`, as the schema dataclasses (what learners, runtimes and evaluation read)."""
    return OmegaConf.to_object(finalize(cfg))  # type: ignore[return-value]


@dataclass(frozen=True)
class RunParts:
    """A validated run: its typed config, its algorithm and its env's spaces.

    Builds the pieces each process needs. Picklable, so a runtime hands the
    same parts to every worker (an algorithm registered in code included).
    """

    config: Config
    algorithm: Algorithm
    observation_space: gym.Space
    action_space: gym.Space
    # Epoch seconds at which this invocation's time_limit_s runs out: set by the trainer as the
    # run starts (None: no time limit, or not training).
    deadline: float | None = None

    def network(self) -> nn.Module:
        """A fresh network for this algorithm on these spaces (``cfg.model``)."""
        return self.algorithm.network(self.observation_space, self.action_space, self.config.model)

    def learner(self, model: nn.Module, rng: np.random.Generator) -> Learner:
        """The algorithm's learner over ``model``, with the typed ``algo`` config."""
        return self.algorithm.learner(model, self.config.algo, self.action_space, rng)

    def envs(self, num_envs: int | None = None) -> BatchEnv:
        """A worker's environments (``envs_per_worker`` unless given)."""
        return make_batch_env(self.config.env, num_envs or self.config.envs_per_worker)

    def optimizer(self, params: Sequence[Tensor], shared_stats: list[Tensor] | None) -> SharedOptimizer:
        """A worker's optimizer over the shared ``params`` (``shared_stats``: statistics all workers share)."""
        return build_optimizer(self.config.optim, params, shared_stats)

    @property
    def lr(self) -> float:
        """The learning rate at step 0: ``optim.lr``, times sqrt(envs_per_worker) with ``lr_scaling=sqrt``."""
        optim = self.config.optim
        return optim.lr * (math.sqrt(self.config.envs_per_worker) if optim.lr_scaling == "sqrt" else 1.0)

    def lr_schedule(self, origin: float | None = None) -> LinearDecay:
        """The learning rate at each global step; with ``anneal_over=budget`` the time limit counts too.

        ``origin`` is the run's clock origin (epoch seconds at which its wall
        time is 0), from which the time budget's share is measured.
        """
        optim = self.config.optim
        clock = None
        if optim.anneal_over == "budget" and self.deadline is not None and origin is not None:
            clock = (origin, self.deadline)
        return LinearDecay(self.lr, self.config.total_steps, optim.anneal_lr, clock, optim.warmup_steps)

    @property
    def target_interval(self) -> int | None:
        """Global steps between target-network syncs, for algorithms that keep a target network."""
        return getattr(self.config.algo, "target_interval", None) if self.algorithm.uses_target_net else None


def build_run(cfg: DictConfig | Mapping[str, Any] | Config) -> RunParts:
    """Validate ``cfg`` and look at its env once: the parts every entry point and runtime start from."""
    config = typed_config(cfg)
    algorithm = get_algorithm(config.algo.name)
    observation_space, action_space = check_env_config(config.env)
    algorithm.check_action_space(action_space)
    parts = RunParts(config, algorithm, observation_space, action_space)
    with torch.random.fork_rng():
        parts.network()  # a model setting these spaces cannot have (model.separate_value) fails here, in one line
    return parts
