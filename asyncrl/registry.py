"""The algorithm registry: each algorithm is declared once, as an :class:`Algorithm`.

A declaration names the algorithm, its config schema (the ``algo.*`` keys),
its learner class, the network it needs and what the runtime must provide
besides (a shared target network, the next action in a segment's last
state). Everything else reads it from here: the ``algo`` option's choices,
validation, model building, the learner lookup, the worker loop.

Where declarations come from, in order:

- the paper's methods: a module-level ``ALGORITHMS`` list in each module of
  :mod:`asyncrl.learners` (a new module there is found without editing this
  file; its ``conf/algo/<name>.yaml`` holds the documented defaults);
- installed packages: the entry-point group ``asyncrl.algorithms``, each
  entry an :class:`Algorithm` (or a list of them);
- code: :func:`register_algorithm`.

An algorithm without a YAML file composes from its schema's defaults, so
``algo=<name>`` works on the command line and in :func:`asyncrl.make_config`
alike.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import gymnasium as gym
from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from asyncrl.config import AlgoConfig, ConfigError, config_dir

if TYPE_CHECKING:
    from torch import nn

    from asyncrl.learners.base import Learner

ENTRY_POINT_GROUP = "asyncrl.algorithms"

# (observation space, action space, model config) -> the network the learner acts and learns with.
NetworkFactory = Callable[[gym.Space, gym.Space, Any], "nn.Module"]


@dataclass(frozen=True)
class Algorithm:
    """One algorithm, declared once.

    ``network`` builds the (worker-local and shared) network from the env's
    spaces and ``cfg.model``: :func:`asyncrl.nets.q_network` or
    :func:`asyncrl.nets.actor_critic`, or a factory of your own.
    """

    name: str  # what `algo=<name>` selects
    schema: type[AlgoConfig]  # a dataclass extending AlgoConfig; its fields are the `algo.*` keys
    learner: type[Learner]  # built once per worker: Learner(model, algo_cfg, action_space, rng)
    network: NetworkFactory
    uses_target_net: bool = False  # keep a shared target network, synced every algo.target_interval steps
    needs_next_action: bool = False  # choose the action in a segment's last state before the update (Sarsa)
    action_spaces: tuple[type[gym.Space], ...] = (gym.spaces.Discrete,)  # the action spaces it can act in
    recurrent: bool = False  # supports model.lstm=true

    def check_action_space(self, space: gym.Space) -> None:
        """Refuse an env whose action space this algorithm cannot act in (one line)."""
        box_ok = not isinstance(space, gym.spaces.Box) or len(space.shape) == 1
        if not (isinstance(space, self.action_spaces) and box_ok):
            kinds = " or ".join("a 1-D Box" if kind is gym.spaces.Box else "a discrete" for kind in self.action_spaces)
            raise ConfigError(f"algo={self.name}: needs {kinds} action space, the env has {space}")


_registered: dict[str, Algorithm] = {}
_discovered: dict[str, Algorithm] | None = None


def _add(into: dict[str, Algorithm], algorithm: Any, source: str) -> None:
    if not isinstance(algorithm, Algorithm):
        raise TypeError(f"{source}: expected an asyncrl.Algorithm, got {type(algorithm).__name__}")
    if not (isinstance(algorithm.schema, type) and issubclass(algorithm.schema, AlgoConfig)):
        raise TypeError(f"{source}: algorithm {algorithm.name!r}: schema must be a dataclass extending AlgoConfig")
    if algorithm.name in into:
        raise ValueError(f"{source}: algorithm {algorithm.name!r} is already registered")
    into[algorithm.name] = algorithm


def _discover() -> dict[str, Algorithm]:
    """The built-in declarations, then the installed entry points (once per process)."""
    global _discovered
    if _discovered is None:
        found: dict[str, Algorithm] = {}
        import asyncrl.learners as package

        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for algorithm in getattr(module, "ALGORITHMS", []):
                _add(found, algorithm, module.__name__)
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = entry.load()
            except Exception as exc:  # noqa: BLE001 - any import error of a plugin, reported in one line
                raise ConfigError(f"entry point {entry.name} = {entry.value} ({ENTRY_POINT_GROUP}): "
                                  f"cannot load it: {type(exc).__name__}: {exc}") from None
            for algorithm in loaded if isinstance(loaded, (list, tuple)) else [loaded]:
                _add(found, algorithm, f"entry point {entry.name} = {entry.value}")
        _discovered = found
    return _discovered


def register_algorithm(algorithm: Algorithm) -> Algorithm:
    """Add an algorithm defined outside the package; ``algo=<name>`` selects it afterwards.

    The learner class and network factory must be importable by name (defined
    in a module, not in a notebook cell) for worker processes to find them.
    """
    if algorithm.name in _discover():
        raise ValueError(f"algorithm {algorithm.name!r} is already registered")
    _add(_registered, algorithm, "register_algorithm")
    store_configs()
    return algorithm


def algorithms() -> dict[str, Algorithm]:
    """Every known algorithm by name."""
    return {**_discover(), **_registered}


def get_algorithm(name: str) -> Algorithm:
    """The declaration of ``name``; ConfigError listing the known names otherwise."""
    known = algorithms()
    if name not in known:
        raise ConfigError(f"algo={name!r}: must be one of {', '.join(sorted(known))}")
    return known[name]


def store_configs() -> None:
    """Let ``algo=<name>`` compose from the schema for each algorithm that has no YAML file."""
    store = ConfigStore.instance()
    yaml_dir = config_dir() / "algo"
    for name, algorithm in algorithms().items():
        if not (yaml_dir / f"{name}.yaml").exists():
            node = OmegaConf.structured(algorithm.schema)
            node.name = name
            store.store(group="algo", name=name, node=node)
