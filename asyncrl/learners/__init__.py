"""The paper's four methods as learners on one runtime."""

from asyncrl.learners.a3c import A3C
from asyncrl.learners.base import Learner, Segment
from asyncrl.learners.q_learning import NStepQ, OneStepQ, OneStepSarsa

LEARNERS: dict[str, type[Learner]] = {cls.name: cls for cls in (A3C, OneStepQ, OneStepSarsa, NStepQ)}

__all__ = ["LEARNERS", "A3C", "Learner", "NStepQ", "OneStepQ", "OneStepSarsa", "Segment"]
