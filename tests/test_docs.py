"""docs/configuration.md is generated from the schemas and conf/; it must not drift from them."""

from __future__ import annotations

import dataclasses

import pytest

from asyncrl import config
from asyncrl.config_doc import GROUPS, OUT, SECTIONS, meaning, render
from asyncrl.learners import A3CConfig, NStepQConfig, OneStepConfig

SCHEMAS = [config.Config, A3CConfig, OneStepConfig, NStepQConfig, config.EnvConfig,
           config.AtariEnvConfig, config.OptimConfig, config.RuntimeConfig, config.ModelConfig, config.EvalConfig,
           config.CheckpointConfig, config.WandbConfig]


def test_committed_configuration_page_is_the_generated_one():
    assert OUT.read_text(encoding="utf-8") == render(), "run: python -m asyncrl.config_doc"


def test_every_schema_key_is_on_the_page():
    page = render()
    for cls in SCHEMAS:
        for f in dataclasses.fields(cls):
            if cls is config.Config and f.name in GROUPS + SECTIONS:
                continue
            assert f"{f.name}` |" in page, f"{cls.__name__}.{f.name} missing from the page"
    assert "`env=pong`" in page and "`solved_return=18`" in page  # an option's own value, composed by Hydra
    assert "`tuned/nstep_q_cartpole.yaml`" in page and "`algo.eps_anneal=20000`" in page


def test_a_key_without_a_comment_is_an_error():
    with pytest.raises(ValueError, match="Config.no_such_field has no comment"):
        meaning(config.Config, "no_such_field", {})
