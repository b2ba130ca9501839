"""The algorithm registry: every known :class:`~asyncrl.algorithm.Algorithm`, checked once, by name.

Everything reads the declarations from here: the ``algo`` option's choices,
validation, model building, the learner lookup, the worker loop.

Where declarations come from, in order:

- the paper's methods: a module-level ``ALGORITHMS`` list in each module of
  :mod:`asyncrl.learners` (a new module there is found without editing this
  file; its ``conf/algo/<name>.yaml`` holds the documented defaults);
- installed packages (plugins): the entry-point group ``asyncrl.algorithms``,
  each entry an :class:`Algorithm` (or a list of them);
- code: :func:`register_algorithm`.

Each declaration is checked when it is added, for what the runtime relies on
(:func:`check_declaration`). A plugin can only break itself: one that fails
to load, fails its check or would replace a built-in is left out and
reported in one line (:func:`plugin_problems`), and only ``algo=<its name>``
fails, with that line.

An algorithm without a YAML file composes from its schema's defaults, so
``algo=<name>`` works on the command line and in :func:`asyncrl.make_config`
alike.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import sys
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from asyncrl.algorithm import Algorithm, NetworkFactory
from asyncrl.config import AlgoConfig, ConfigError, config_dir
from asyncrl.learners.base import Learner

ENTRY_POINT_GROUP = "asyncrl.algorithms"
HOW_TO_ADD = (f"install the package that provides it (an {ENTRY_POINT_GROUP} entry point) "
              "or call asyncrl.register_algorithm with its declaration")


@dataclasses.dataclass
class _Known:
    """The declarations found so far, where each came from, and the plugins left out."""

    algorithms: dict[str, Algorithm] = dataclasses.field(default_factory=dict)
    origins: dict[str, str] = dataclasses.field(default_factory=dict)
    builtin: set[str] = dataclasses.field(default_factory=set)
    problems: list[str] = dataclasses.field(default_factory=list)  # one line per plugin left out
    unavailable: dict[str, str] = dataclasses.field(default_factory=dict)  # name -> why algo=<name> fails
    conflicted: set[str] = dataclasses.field(default_factory=set)  # names plugins declare differently


_known: _Known | None = None
_reported = False


def check_declaration(algorithm: Any, origin: str) -> Algorithm:
    """``algorithm`` if it declares what the runtime relies on; ConfigError in one line naming ``origin`` otherwise."""
    if not isinstance(algorithm, Algorithm):
        what = f"the class {algorithm.__name__}" if isinstance(algorithm, type) else type(algorithm).__name__
        raise ConfigError(f"{origin}: expected an asyncrl.Algorithm(name=..., schema=..., learner=..., network=...), "
                          f"got {what}")
    name = algorithm.name
    if not (isinstance(name, str) and name.isidentifier()):
        raise ConfigError(f"{origin}: algorithm name {name!r} must be a Python identifier (letters, digits, _)")
    if not (dataclasses.is_dataclass(algorithm.schema) and isinstance(algorithm.schema, type)
            and issubclass(algorithm.schema, AlgoConfig)):
        raise ConfigError(f"{origin}: algorithm {name!r}: schema must be a dataclass extending AlgoConfig")
    learner = algorithm.learner
    if not (isinstance(learner, type) and issubclass(learner, Learner)):
        raise ConfigError(f"{origin}: algorithm {name!r}: learner must be a class extending asyncrl.Learner")
    if inspect.isabstract(learner):
        missing = ", ".join(sorted(learner.__abstractmethods__))
        raise ConfigError(f"{origin}: algorithm {name!r}: learner {learner.__name__} does not implement {missing}")
    if not callable(algorithm.network):
        raise ConfigError(f"{origin}: algorithm {name!r}: network must be a function (spaces, model config) -> module")
    fields = {f.name for f in dataclasses.fields(algorithm.schema)}
    if algorithm.uses_target_net and "target_interval" not in fields:
        raise ConfigError(f"{origin}: algorithm {name!r} uses a target network, so its schema "
                          f"{algorithm.schema.__name__} must declare target_interval (global steps between syncs)")
    return algorithm


def _add(known: _Known, algorithm: Any, origin: str) -> None:
    """Check and add one declaration; the same declaration again is a no-op, another under its name is refused."""
    algorithm = check_declaration(algorithm, origin)
    name = algorithm.name
    if name in known.algorithms and known.algorithms[name] != algorithm:
        raise ConfigError(f"{origin}: algorithm {name!r} is already declared differently by {known.origins[name]}")
    if name not in known.algorithms:
        known.algorithms[name] = algorithm
        known.origins[name] = origin


def _entry_origin(entry: EntryPoint) -> str:
    dist = entry.dist.name if entry.dist is not None else "an unknown distribution"
    return f"plugin {entry.name} = {entry.value} (distribution {dist})"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _add_plugin(known: _Known, entry: EntryPoint) -> None:
    """One entry point's algorithms, or one line saying why it was left out (only its own names fail)."""
    origin = _entry_origin(entry)
    if entry.name in known.builtin:
        known.problems.append(f"{origin}: cannot replace the built-in algorithm {entry.name!r}; left out")
        return
    try:
        loaded = entry.load()
    except Exception as exc:  # noqa: BLE001 - any failure of a plugin's import stays the plugin's
        problem = f"{origin}: cannot be loaded ({_first_line(exc)}); left out"
        known.problems.append(problem)
        known.unavailable.setdefault(entry.name, problem)
        return
    for algorithm in loaded if isinstance(loaded, (list, tuple)) else [loaded]:
        name = getattr(algorithm, "name", entry.name)
        name = name if isinstance(name, str) else entry.name
        if name in known.builtin:
            known.problems.append(f"{origin}: cannot replace the built-in algorithm {name!r}; left out")
            continue
        try:
            check_declaration(algorithm, origin)
        except ConfigError as exc:
            known.problems.append(f"{exc}; left out")
            known.unavailable.setdefault(name, f"{exc}; left out")
            continue
        if name in known.conflicted:  # already refused: two plugins disagree about it
            continue
        if name in known.algorithms and known.algorithms[name] != algorithm:
            # Which one would win depends on the order the plugins were installed in: neither does.
            problem = (f"{origin}: algorithm {name!r} is also declared, differently, by {known.origins.pop(name)}; "
                       "both left out")
            del known.algorithms[name]
            known.problems.append(problem)
            known.unavailable[name] = problem
            known.conflicted.add(name)
            continue
        _add(known, algorithm, origin)


def _discover() -> _Known:
    """The built-in declarations, then the installed plugins (once per process)."""
    global _known
    if _known is None:
        known = _Known()
        import asyncrl.learners as package

        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for algorithm in getattr(module, "ALGORITHMS", []):
                _add(known, algorithm, module.__name__)
        known.builtin = set(known.algorithms)
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            _add_plugin(known, entry)
        for name in set(known.unavailable) & set(known.algorithms):  # another plugin provides it after all
            del known.unavailable[name]
        _known = known
    return _known


def register_algorithm(algorithm: Algorithm) -> Algorithm:
    """Add an algorithm defined outside the package; ``algo=<name>`` selects it afterwards.

    Registering a declaration that is already known (the same one, e.g. also
    installed as a plugin) does nothing; a different declaration under a known
    name is refused (ConfigError naming both). The learner class and network
    factory must be importable by name (defined in a module, not in a notebook
    cell) for worker processes to find them.
    """
    known = _discover()
    learner_module = getattr(getattr(algorithm, "learner", None), "__module__", None)
    _add(known, algorithm, f"register_algorithm from module {learner_module}" if learner_module
         else "register_algorithm")
    known.unavailable.pop(algorithm.name, None)
    store_configs()
    return algorithm


def unregister_algorithm(name: str) -> None:
    """Forget an algorithm added by :func:`register_algorithm` (tests, notebooks); built-ins stay."""
    known = _discover()
    if name in known.builtin:
        raise ConfigError(f"algorithm {name!r} is built in and cannot be unregistered")
    known.algorithms.pop(name, None)
    known.origins.pop(name, None)


def algorithms() -> dict[str, Algorithm]:
    """Every known algorithm by name: the built-ins first."""
    return dict(_discover().algorithms)


def origin_of(name: str) -> str:
    """Where ``name``'s declaration came from (a module, a plugin and its distribution, or code)."""
    return _discover().origins[name]


def plugin_problems() -> list[str]:
    """One line for each installed plugin that was left out, and why."""
    return list(_discover().problems)


def left_out(name: str) -> str | None:
    """Why ``algo=<name>`` fails when the plugins that declare it were left out; None otherwise."""
    return _discover().unavailable.get(name)


def report_plugin_problems() -> None:
    """Say once per process, on stderr, which plugins were left out and why (one line each)."""
    global _reported
    if not _reported:
        _reported = True
        for problem in plugin_problems():
            print(f"warning: {problem}", file=sys.stderr)


def get_algorithm(name: str) -> Algorithm:
    """The declaration of ``name``; ConfigError saying why not otherwise."""
    known = _discover()
    if name in known.algorithms:
        return known.algorithms[name]
    if name in known.unavailable:
        raise ConfigError(f"algo={name!r}: {left_out(name)}")
    raise ConfigError(f"algo={name!r}: must be one of {', '.join(sorted(known.algorithms))} "
                      f"(an algorithm of your own: {HOW_TO_ADD})")


def require_saved_algorithm(name: str, run: str) -> Algorithm:
    """The algorithm a saved ``run`` was trained with; ConfigError saying how to get it when it is not known."""
    known = _discover()
    if name in known.algorithms:
        return known.algorithms[name]
    why = f" ({known.unavailable[name]})" if name in known.unavailable else ""
    raise ConfigError(f"{run}: trained with algo={name!r}, which is not registered here{why}; to load it, {HOW_TO_ADD}")


def store_configs() -> None:
    """Let ``algo=<name>`` compose from the schema for each algorithm that has no YAML file."""
    store = ConfigStore.instance()
    yaml_dir = config_dir() / "algo"
    for name, algorithm in algorithms().items():
        if not (yaml_dir / f"{name}.yaml").exists():
            node = OmegaConf.structured(algorithm.schema)
            node.name = name
            store.store(group="algo", name=name, node=node)


__all__ = ["ENTRY_POINT_GROUP", "Algorithm", "NetworkFactory", "algorithms", "check_declaration", "get_algorithm",
           "left_out", "origin_of", "plugin_problems", "register_algorithm", "report_plugin_problems",
           "require_saved_algorithm", "store_configs", "unregister_algorithm"]
