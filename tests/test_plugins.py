"""Plugins can only break themselves: registration checks a declaration in one line, a plugin that fails
to load or to pass the checks is left out (one line naming its distribution) while everything else works,
and a saved run whose algorithm is not registered says how to get it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import asyncrl
from asyncrl import registry
from asyncrl.extend import AlgoConfig, Learner
from tests.conftest import ROOT, run_cli
from tests.test_registry import extension_module

NSTEP_Q = asyncrl.algorithms()["nstep_q"]


class HalfLearner(Learner):
    """A learner that forgot ``play`` and ``loss``."""

    segment_length = 5

    def act(self, obs, global_step):
        return obs


@dataclasses.dataclass
class NoTargetConfig(AlgoConfig):
    name: str = "no_target"
    t_max: int = 5


@pytest.mark.parametrize(("declaration", "line"), [
    (NSTEP_Q.learner, r"register_algorithm: expected an asyncrl\.Algorithm\(name=\.\.\., schema=\.\.\., "
                      r"learner=\.\.\., network=\.\.\.\), got the class NStepQ"),
    (dataclasses.replace(NSTEP_Q, name="my algo"),
     r"algorithm name 'my algo' must be a Python identifier \(letters, digits, _\)"),
    (dataclasses.replace(NSTEP_Q, name="half", learner=HalfLearner),
     r"algorithm 'half': learner HalfLearner does not implement loss, play$"),
    (dataclasses.replace(NSTEP_Q, name="no_target", schema=NoTargetConfig),
     r"algorithm 'no_target' uses a target network, so its schema NoTargetConfig must declare target_interval"),
    (dataclasses.replace(NSTEP_Q, name="no_schema", schema=dict),
     r"algorithm 'no_schema': schema must be a dataclass extending AlgoConfig"),
    (dataclasses.replace(NSTEP_Q, learner=HalfLearner, name="nstep_q"), r"learner HalfLearner does not implement"),
])
def test_registration_refuses_a_declaration_the_runtime_could_not_run(declaration, line):
    with pytest.raises(asyncrl.ConfigError, match=line) as refused:
        asyncrl.register_algorithm(declaration)
    assert "\n" not in str(refused.value)
    assert set(asyncrl.algorithms()) == {"a3c", "one_step_q", "one_step_sarsa", "nstep_q"}  # nothing was added


def test_the_same_declaration_twice_is_a_no_op_and_another_under_its_name_is_refused_naming_both():
    assert asyncrl.register_algorithm(NSTEP_Q) is NSTEP_Q  # a built-in's own declaration: nothing changes
    mine = dataclasses.replace(NSTEP_Q, name="nstep_q_copy")
    try:
        asyncrl.register_algorithm(mine)
        asyncrl.register_algorithm(dataclasses.replace(mine))  # equal: a no-op
        other = dataclasses.replace(mine, needs_next_action=True)
        with pytest.raises(asyncrl.ConfigError, match=r"^register_algorithm from module asyncrl\.learners\.q_learning: "
                                                     r"algorithm 'nstep_q_copy' is already declared differently by "
                                                     r"register_algorithm from module asyncrl\.learners\.q_learning$"):
            asyncrl.register_algorithm(other)
        with pytest.raises(asyncrl.ConfigError, match=r"'nstep_q' is already declared differently by "
                                                     r"asyncrl\.learners\.q_learning$"):
            asyncrl.register_algorithm(dataclasses.replace(NSTEP_Q, recurrent=True))
        assert asyncrl.algorithms()["nstep_q_copy"] is mine
    finally:
        registry.unregister_algorithm("nstep_q_copy")


def install_plugins(directory: Path, entries: dict[str, str], dist: str = "flaky-plugins") -> dict[str, str]:
    """A distribution ``dist`` with these ``asyncrl.algorithms`` entry points, importable from ``directory``;
    the environment a subprocess needs to see it."""
    info = directory / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entries.items())
    (info / "entry_points.txt").write_text(f"[asyncrl.algorithms]\n{lines}")
    return {"PYTHONPATH": f"{ROOT}:{directory}"}


BROKEN = {
    "broken": "no_such_module:ALGORITHM",  # cannot be imported
    "a3c": "expected_sarsa:ALGORITHM",  # would replace a built-in
    "misdeclared": "misdeclared:ALGORITHM",  # fails registration's checks
    "expected_sarsa": "expected_sarsa:ALGORITHM",  # fine
}
WARNINGS = [
    "warning: plugin broken = no_such_module:ALGORITHM (distribution flaky-plugins): cannot be loaded "
    "(ModuleNotFoundError: No module named 'no_such_module'); left out",
    "warning: plugin a3c = expected_sarsa:ALGORITHM (distribution flaky-plugins): cannot replace the built-in "
    "algorithm 'a3c'; left out",
    "warning: plugin misdeclared = misdeclared:ALGORITHM (distribution flaky-plugins): algorithm 'misdeclared' "
    "uses a target network, so its schema Config must declare target_interval (global steps between syncs); "
    "left out",
]


@pytest.fixture
def flaky_plugins(tmp_path: Path) -> dict[str, str]:
    extension_module(tmp_path)
    (tmp_path / "misdeclared.py").write_text(
        "import dataclasses\nfrom asyncrl.extend import AlgoConfig, Algorithm\nfrom expected_sarsa import ALGORITHM "
        "as A\n\n@dataclasses.dataclass\nclass Config(AlgoConfig):\n    name: str = 'misdeclared'\n\n"
        "ALGORITHM = dataclasses.replace(A, name='misdeclared', schema=Config)\n")
    return install_plugins(tmp_path, BROKEN)


def test_a_broken_plugin_breaks_only_itself(flaky_plugins: dict[str, str], tmp_path: Path):
    help_run = run_cli("--help", env=flaky_plugins)
    assert help_run.returncode == 0, help_run.stderr
    assert help_run.stderr.splitlines() == WARNINGS  # each once, one line each
    assert re.search(r"algo\s+a3c\*, expected_sarsa, nstep_q, one_step_q, one_step_sarsa$", help_run.stdout, re.M)

    for algo in ("a3c", "expected_sarsa"):  # the built-in a3c, not the plugin's; the sound plugin works
        shown = run_cli("--cfg", "job", f"algo={algo}", env=flaky_plugins)
        assert shown.returncode == 0, shown.stderr
        assert f"name: {algo}" in shown.stdout and shown.stderr.splitlines() == WARNINGS

    run = run_cli("algo=expected_sarsa", "runtime=threads", "workers=1", "total_steps=500", "eval.episodes=0",
                  "progress=off", f"hydra.run.dir={tmp_path / 'run'}", env=flaky_plugins)
    assert run.returncode == 0, run.stderr

    for algo, why in (("broken", WARNINGS[0]), ("misdeclared", WARNINGS[2])):
        refused = run_cli(f"algo={algo}", f"hydra.run.dir={tmp_path / algo}", env=flaky_plugins)
        assert refused.returncode == 2
        assert refused.stderr.splitlines() == [*WARNINGS, f"error: algo={algo!r}: {why.removeprefix('warning: ')}"]
        assert not (tmp_path / algo).exists()


def test_a_run_whose_algorithm_is_not_registered_says_how_to_get_it(tmp_path: Path, monkeypatch):
    extension_module(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    import expected_sarsa

    asyncrl.register_algorithm(expected_sarsa.ALGORITHM)
    try:
        cfg = asyncrl.make_config("algo=expected_sarsa", "runtime=threads", workers=1, total_steps=500,
                                  progress="off", eval={"episodes": 0})
        run = asyncrl.train(cfg, tmp_path / "run").run_dir
    finally:
        registry.unregister_algorithm("expected_sarsa")
    needs = (rf"^{re.escape(str(run / 'checkpoint.pt'))}: trained with algo='expected_sarsa', which is not registered "
             r"here; to load it, install the package that provides it \(an asyncrl\.algorithms entry point\) or call "
             r"asyncrl\.register_algorithm with its declaration$")
    with pytest.raises(asyncrl.ConfigError, match=needs):
        asyncrl.Agent.load(run)
    with pytest.raises(asyncrl.ConfigError, match=needs):
        asyncrl.make_config(f"resume={run}", "total_steps=1000")
    evaluated = run_cli("resume=" + str(run), "total_steps=1000")
    assert evaluated.returncode == 2
    assert re.match(needs.replace("^", "^error: "), evaluated.stderr.strip())

    asyncrl.register_algorithm(expected_sarsa.ALGORITHM)  # registered again, the run loads
    try:
        assert asyncrl.Agent.load(run).global_step >= 500
    finally:
        registry.unregister_algorithm("expected_sarsa")


def test_two_plugins_that_declare_one_name_differently_are_both_left_out(tmp_path: Path):
    extension_module(tmp_path)
    (tmp_path / "expected_sarsa_v2.py").write_text(
        "import dataclasses\nfrom expected_sarsa import ALGORITHM as A\n\n"
        "ALGORITHM = dataclasses.replace(A, recurrent=True)\n")
    env = install_plugins(tmp_path / "one", {"expected_sarsa": "expected_sarsa:ALGORITHM"}, dist="sarsa-one")
    install_plugins(tmp_path / "two", {"expected_sarsa": "expected_sarsa_v2:ALGORITHM"}, dist="sarsa-two")
    env = {"PYTHONPATH": f"{env['PYTHONPATH']}:{tmp_path / 'two'}:{tmp_path}"}
    proc = run_cli("--cfg", "job", "algo=expected_sarsa", env=env)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 2 and lines[1] == f"error: algo='expected_sarsa': {lines[0].removeprefix('warning: ')}"
    plugin = r"plugin expected_sarsa = expected_sarsa(_v2)?:ALGORITHM \(distribution sarsa-(one|two)\)"
    assert re.fullmatch(rf"warning: {plugin}: algorithm 'expected_sarsa' is also declared, differently, by {plugin}; "
                        r"both left out", lines[0])
