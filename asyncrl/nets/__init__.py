"""Networks: a body for the observation and a head for the learner.

:func:`q_network` and :func:`actor_critic` build a learner's network from the
env's spaces and ``cfg.model``.
"""

from asyncrl.nets.factories import actor_critic, q_network
from asyncrl.nets.heads import ActorCritic, QNetwork
from asyncrl.nets.recurrent import reset_state

__all__ = ["ActorCritic", "QNetwork", "actor_critic", "q_network", "reset_state"]
