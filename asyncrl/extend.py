"""Everything a learner of your own needs, from one public place.

    from asyncrl.extend import AlgoConfig, Algorithm, Learner, Segment, actor_critic, nstep_returns, policy_for

- the declaration: :class:`Algorithm`, registered with :func:`register_algorithm`
  or through the ``asyncrl.algorithms`` entry-point group;
- the ``algo.*`` schema: :class:`AlgoConfig` and the one-line checks
  :func:`require`, :func:`require_positive`, :func:`require_choice`
  (:class:`ConfigError`);
- the contract: :class:`Learner` (subclass it), :class:`Segment` (what ``loss``
  gets), ``Metrics`` (what ``loss`` returns besides the loss);
- networks: :func:`q_network` (Q-values [N, A]) and :func:`actor_critic`
  (policy parameters and values [N]), or a factory of your own
  (``NetworkFactory``); :func:`reset_state` for a recurrent model's state;
- policies: :func:`policy_for` (a softmax or Gaussian distribution with
  ``sample``, ``log_prob``, ``entropy``, ``greedy``), :func:`select_rows`,
  :func:`unflatten_rows`;
- targets: :func:`nstep_returns`, :func:`one_step_targets`;
- exploration: :class:`EpsilonSchedule`, :func:`sample_final_epsilon`.

docs/extending.md has two complete learners built from these and the
contract in a table. Nothing here is Hogwild: the runtime owns shared
memory, optimizers and processes.
"""

from asyncrl.algorithm import Algorithm, NetworkFactory
from asyncrl.config import AlgoConfig, ConfigError, require, require_choice, require_positive
from asyncrl.learners.base import Learner, Metrics, Segment
from asyncrl.learners.exploration import EpsilonSchedule, sample_final_epsilon
from asyncrl.learners.policies import (
    CategoricalPolicy,
    GaussianPolicy,
    Policy,
    PolicyParams,
    policy_for,
    select_rows,
    unflatten_rows,
)
from asyncrl.learners.returns import nstep_returns, one_step_targets
from asyncrl.nets import actor_critic, q_network, reset_state
from asyncrl.registry import register_algorithm

__all__ = ["AlgoConfig", "Algorithm", "CategoricalPolicy", "ConfigError", "EpsilonSchedule", "GaussianPolicy",
           "Learner", "Metrics", "NetworkFactory", "Policy", "PolicyParams", "Segment", "actor_critic", "nstep_returns",
           "one_step_targets", "policy_for", "q_network", "register_algorithm", "require", "require_choice",
           "require_positive", "reset_state", "sample_final_epsilon", "select_rows", "unflatten_rows"]
