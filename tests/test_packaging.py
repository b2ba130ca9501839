"""The wheel: built from the checkout, installed outside it, it trains from any directory.

conf/ stays at the top of the repository and ships inside the wheel as
``asyncrl/conf``; the console script ``asyncrl`` and ``python -m asyncrl`` both work.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

SOURCES = ("pyproject.toml", "README.md", "asyncrl", "conf")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel built from a copy of the checkout, installed (without dependencies) into a fresh target."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, src / name)
    dist = work / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(src)], check=True, capture_output=True, text=True, timeout=300)
    (wheel,) = dist.glob("asyncrl-*.whl")
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, text=True, timeout=300)
    return wheel


def _site(wheel: Path) -> Path:
    return wheel.parent.parent / "site"


def _run(wheel: Path, *cmd: str, cwd: Path) -> subprocess.CompletedProcess:
    """A command with only the installed wheel importable as asyncrl (not the checkout)."""
    env = {**os.environ, "PYTHONPATH": str(_site(wheel))}
    return subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_wheel_holds_every_module_and_every_config(installed: Path):
    names = set(zipfile.ZipFile(installed).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "asyncrl").rglob("*.py")}
    configs = {"asyncrl/" + p.relative_to(ROOT).as_posix() for p in (ROOT / "conf").rglob("*.yaml")}
    assert modules - names == set() and configs - names == set()
    assert "[console_scripts]\nasyncrl = asyncrl.cli:main" in zipfile.ZipFile(installed).read(
        next(n for n in names if n.endswith("entry_points.txt"))).decode()


def test_the_installed_package_trains_from_another_directory(installed: Path, tmp_path: Path):
    where = _run(installed, sys.executable, "-c", "import asyncrl, asyncrl.config as c; print(asyncrl.__file__); "
                 "print(c.config_dir())", cwd=tmp_path)
    module_file, conf = where.stdout.split()
    assert Path(module_file).is_relative_to(_site(installed)) and Path(conf) == _site(installed) / "asyncrl" / "conf"

    run = tmp_path / "run"
    proc = _run(installed, sys.executable, "-m", "asyncrl", "algo=nstep_q", "total_steps=1500", "eval.episodes=1",
                "progress=off", f"hydra.run.dir={run}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["config"]["algo"]["target_interval"] == 1000  # tuned preset


def test_the_console_script_trains_and_names_itself(installed: Path, tmp_path: Path):
    script = str(_site(installed) / "bin" / "asyncrl")
    helped = _run(installed, script, "--help", cwd=tmp_path)
    assert helped.returncode == 0 and helped.stdout.startswith("asyncrl:")
    assert "__main__" not in helped.stdout and "_schema" not in helped.stdout
    run = tmp_path / "run"
    proc = _run(installed, script, "runtime=threads", "total_steps=1000", "eval.episodes=0", "progress=off",
                f"hydra.run.dir={run}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((run / "summary.json").read_text())["global_steps"] >= 1000
    assert list(tmp_path.iterdir()) == [run]  # nothing written outside the run directory
    assert "python -m asyncrl.config_doc --print" in helped.stdout  # where every key is, in any install
    reference = _run(installed, sys.executable, "-m", "asyncrl.config_doc", "--print", cwd=tmp_path)
    assert reference.returncode == 0 and reference.stdout.startswith("# Configuration reference")
    assert "| `optim.lr` |" in reference.stdout or "`lr`" in reference.stdout


def test_the_analysis_tools_run_from_an_install(installed: Path, tmp_path: Path):
    runs = tmp_path / "sweep"
    proc = _run(installed, str(_site(installed) / "bin" / "asyncrl"), "-m", "seed=0,1", "total_steps=600",
                "eval.episodes=0", "progress=off", f"hydra.sweep.dir={runs}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    table = _run(installed, str(_site(installed) / "bin" / "asyncrl-compare"), str(runs), "--by", "seed",
                 cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert [line.split("|")[1].strip() for line in table.stdout.splitlines() if line.startswith("| ")][1:] == ["0", "1"]
    figure = tmp_path / "curves.png"
    drawn = _run(installed, sys.executable, "-m", "asyncrl.analysis.curves", str(runs), "--by", "seed",
                 "--out", str(figure), cwd=tmp_path)
    assert drawn.returncode == 0, drawn.stderr
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
