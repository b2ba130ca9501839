"""Networks: a body for the observation and a head for the learner."""

from asyncrl.nets.heads import ActorCritic, QNetwork, build_model

__all__ = ["ActorCritic", "QNetwork", "build_model"]
