"""An algorithm's declaration: what ``algo=<name>`` selects and what the runtime provides for it.

The registry (:mod:`asyncrl.registry`) collects declarations and checks them;
the learners declare theirs here without importing the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gymnasium as gym

from asyncrl.config import AlgoConfig, ConfigError

if TYPE_CHECKING:
    from torch import nn

    from asyncrl.learners.base import Learner

# (observation space, action space, model config) -> the network the learner acts and learns with.
NetworkFactory = Callable[[gym.Space, gym.Space, Any], "nn.Module"]


@dataclass(frozen=True)
class Algorithm:
    """One algorithm, declared once.

    ``network`` builds the (worker-local and shared) network from the env's
    spaces and ``cfg.model``: :func:`asyncrl.nets.q_network` or
    :func:`asyncrl.nets.actor_critic`, or a factory of your own.
    """

    name: str  # what `algo=<name>` selects: a Python identifier
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
