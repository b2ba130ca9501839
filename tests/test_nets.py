"""The network factories: which network each space and config gets, with parameter names checkpoints rely on."""

from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest

from asyncrl.config import ConfigError
from asyncrl.nets import actor_critic, q_network

VECTOR = gym.spaces.Box(-1, 1, (4,), np.float32)
FRAMES = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
DISCRETE = gym.spaces.Discrete(3)
BOX = gym.spaces.Box(-1, 1, (2,), np.float32)

# Parameter names as the networks had them before asyncrl/nets was restructured:
# saved checkpoints hold these names, so they must not change.
MLP = ["body.1.weight", "body.1.bias", "body.3.weight", "body.3.bias"]
CNN = ["body.conv.0.weight", "body.conv.0.bias", "body.conv.2.weight", "body.conv.2.bias", "body.fc.0.weight",
       "body.fc.0.bias"]
LSTM = ["lstm.weight_ih", "lstm.weight_hh", "lstm.bias_ih", "lstm.bias_hh"]
SOFTMAX = ["policy.weight", "policy.bias"]
GAUSSIAN = ["policy.mean.weight", "policy.mean.bias", "policy.var.weight", "policy.var.bias"]
VALUE = ["value.weight", "value.bias"]
VALUE_MLP = ["value_body.1.weight", "value_body.1.bias", "value_body.3.weight", "value_body.3.bias"]
VALUE_LSTM = ["value_lstm.weight_ih", "value_lstm.weight_hh", "value_lstm.bias_ih", "value_lstm.bias_hh"]

VARIANTS = {  # name: (network factory, observation space, action space, model config overrides, class, parameter names)
    "q": (q_network, VECTOR, DISCRETE, {}, "QNetwork", [*MLP, "q.weight", "q.bias"]),
    "q_frames": (q_network, FRAMES, DISCRETE, {}, "QNetwork", [*CNN, "q.weight", "q.bias"]),
    "softmax": (actor_critic, VECTOR, DISCRETE, {}, "ActorCritic", [*MLP, *SOFTMAX, *VALUE]),
    "softmax_lstm": (actor_critic, VECTOR, DISCRETE, {"lstm": True}, "RecurrentActorCritic",
                     [*MLP, *LSTM, *SOFTMAX, *VALUE]),
    "softmax_lstm_frames": (actor_critic, FRAMES, DISCRETE, {"lstm": True}, "RecurrentActorCritic",
                            [*CNN, *LSTM, *SOFTMAX, *VALUE]),
    "gaussian": (actor_critic, VECTOR, BOX, {}, "GaussianActorCritic", [*MLP, *GAUSSIAN, *VALUE_MLP, *VALUE]),
    "gaussian_shared": (actor_critic, VECTOR, BOX, {"separate_value": False}, "GaussianActorCritic",
                        [*MLP, *GAUSSIAN, *VALUE]),
    "gaussian_lstm": (actor_critic, VECTOR, BOX, {"lstm": True}, "RecurrentGaussianActorCritic",
                      [*MLP, *LSTM, *GAUSSIAN, *VALUE_MLP, *VALUE_LSTM, *VALUE]),
    "gaussian_lstm_shared": (actor_critic, VECTOR, BOX, {"lstm": True, "separate_value": False},
                             "RecurrentGaussianActorCritic", [*MLP, *LSTM, *GAUSSIAN, *VALUE]),
}


def model_cfg(**overrides: object) -> SimpleNamespace:
    return SimpleNamespace(**{"hidden": [64, 64], "activation": "tanh", "lstm": False, "lstm_size": 256,
                              "separate_value": None, **overrides})


@pytest.mark.parametrize("name", VARIANTS)
def test_each_variant_keeps_its_class_and_parameter_names(name: str):
    factory, obs_space, action_space, overrides, cls, keys = VARIANTS[name]
    model = factory(obs_space, action_space, model_cfg(**overrides))
    assert type(model).__name__ == cls
    assert list(model.state_dict()) == keys


def test_q_network_refuses_a_box_action_space():
    with pytest.raises(ConfigError, match="discrete action space"):
        q_network(VECTOR, BOX, model_cfg())


def test_separate_value_on_discrete_actions_is_a_config_error():
    with pytest.raises(ConfigError, match="model.separate_value"):
        actor_critic(VECTOR, DISCRETE, model_cfg(separate_value=True))
