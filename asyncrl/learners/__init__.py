"""Learners: how to act and what the loss is, one module per method.

Each module declares its algorithms in a module-level ``ALGORITHMS`` list
(:class:`asyncrl.registry.Algorithm`); the registry finds them there.
"""

from asyncrl.learners.a3c import A3C, A3CConfig
from asyncrl.learners.base import Learner, Metrics, Segment
from asyncrl.learners.q_learning import NStepQ, NStepQConfig, OneStepConfig, OneStepQ, OneStepSarsa

__all__ = ["A3C", "A3CConfig", "Learner", "Metrics", "NStepQ", "NStepQConfig", "OneStepConfig", "OneStepQ",
           "OneStepSarsa", "Segment"]
