"""asyncrl: the four methods of Mnih et al. 2016 on one asynchronous runtime.

The Python API (the command line ``asyncrl`` / ``python -m asyncrl`` is a thin layer over it):

- :func:`make_config`: compose and validate a config exactly as the command line does;
- :func:`train`: train it into a run directory; returns :class:`TrainResult` (run_dir, summary, agent);
- :class:`Agent`: ``Agent.load(run_dir)``, ``agent.act(obs_batch, state)``, ``agent.evaluate(...)``;
- :func:`register_algorithm` / :class:`Algorithm`: add a learner of your own (or use the entry-point
  group ``asyncrl.algorithms``); :mod:`asyncrl.extend` holds everything a learner needs;
- :class:`ConfigError`, :class:`CheckpointError`, :class:`WorkerError`: what goes wrong, in one line.
"""

from asyncrl.agent import Agent
from asyncrl.api import TrainResult, make_config, train
from asyncrl.checkpoint import CheckpointError
from asyncrl.config import ConfigError
from asyncrl.learners import Learner, Segment
from asyncrl.registry import Algorithm, algorithms, register_algorithm
from asyncrl.runtime.runner import WorkerError

__version__ = "0.1.0"

__all__ = ["Agent", "Algorithm", "CheckpointError", "ConfigError", "Learner", "Segment", "TrainResult",
           "WorkerError", "algorithms", "make_config", "register_algorithm", "train"]
