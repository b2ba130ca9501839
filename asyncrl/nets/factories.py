"""Building a learner's network from the env's spaces and ``cfg.model``.

The body follows the observation: the paper's CNN for image stacks, an MLP
for vectors; with ``model.lstm`` an LSTM follows the body (A3C-LSTM). The
head follows the learner (:func:`q_network` or :func:`actor_critic`) and, for
the actor-critic, the action space: softmax for Discrete, Gaussian for Box.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
from torch import nn

from asyncrl.config import ConfigError
from asyncrl.nets.atari import AtariBody
from asyncrl.nets.gaussian import GaussianActorCritic, RecurrentGaussianActorCritic
from asyncrl.nets.heads import ActorCritic, QNetwork, RecurrentActorCritic
from asyncrl.nets.mlp import mlp_body


def build_body(obs_space: gym.Space, model_cfg: Any) -> tuple[nn.Module, int]:
    """The body for this observation space and the width of its output."""
    if len(obs_space.shape) == 3:
        return AtariBody(in_channels=obs_space.shape[0]), AtariBody.features
    in_features = math.prod(obs_space.shape)
    return mlp_body(in_features, model_cfg.hidden, model_cfg.activation), model_cfg.hidden[-1]


def q_network(obs_space: gym.Space, action_space: gym.Space, model_cfg: Any) -> nn.Module:
    """One Q-value per action of a discrete action space, float32 on the CPU."""
    if not isinstance(action_space, gym.spaces.Discrete):
        raise ConfigError(f"a Q-network needs a discrete action space, the env has {action_space}")
    body, features = build_body(obs_space, model_cfg)
    return QNetwork(body, features, int(action_space.n))


def actor_critic(obs_space: gym.Space, action_space: gym.Space, model_cfg: Any) -> nn.Module:
    """A policy and a value, float32 on the CPU; recurrent with ``model_cfg.lstm``.

    A Box action space gets a Gaussian policy whose value network has its own
    body (and LSTM) unless ``model_cfg.separate_value`` is false; a Discrete
    one gets a softmax policy sharing the body with the value
    (``model_cfg.separate_value`` must not be true).
    """
    separate, lstm = model_cfg.separate_value, model_cfg.lstm
    box = isinstance(action_space, gym.spaces.Box)
    if separate and not box:
        raise ConfigError("model.separate_value=true: a separate value network is supported for Box "
                          "(continuous) action spaces only")
    body, features = build_body(obs_space, model_cfg)
    if box:
        action_dim = int(action_space.shape[0])
        value_body, value_features = build_body(obs_space, model_cfg) if separate is not False else (None, None)
        if lstm:
            return RecurrentGaussianActorCritic(body, features, action_dim, model_cfg.lstm_size, value_body,
                                                value_features)
        return GaussianActorCritic(body, features, action_dim, value_body, value_features)
    if lstm:
        return RecurrentActorCritic(body, features, int(action_space.n), model_cfg.lstm_size)
    return ActorCritic(body, features, int(action_space.n))

