"""Generate docs/configuration.md from the schemas and the YAML files in conf/.

    python -m asyncrl.config_doc              # rewrite docs/configuration.md
    python -m asyncrl.config_doc --check      # exit 1 when the committed file differs
    python -m asyncrl.config_doc --print      # the page on stdout (from any install: asyncrl --help says so)

The schemas are asyncrl/config.py's and each algorithm's own (declared in its
module under asyncrl/learners/). Every key's meaning is the comment next to
(or just above) its field in the schema's source; a field without one is an
error, so a new key cannot go undocumented. Defaults are the schema's, then each option's own values as
Hydra composes them, so the page cannot drift from the code.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import io
import sys
import tokenize
from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from asyncrl import config as config_module
from asyncrl.build import finalize, schema_for
from asyncrl.config import Config, config_dir, register_configs
from asyncrl.registry import algorithms

ROOT = Path(__file__).resolve().parents[1]
CONF = config_dir()
OUT = ROOT / "docs" / "configuration.md"
# Options composed with no tuned preset: `tuned/<algo>_gym.yaml` does not exist.
NEUTRAL = ["env=gym", "env.id=CartPole-v1"]
GROUPS = ("algo", "env", "optim", "runtime")
SECTIONS = ("model", "eval", "checkpoint", "logger", "wandb")


def field_comments() -> dict[tuple[str, str], str]:
    """(class name, field name) -> the comment beside each schema field, from every schema's module."""
    sources = {config_module.__file__, *(inspect.getsourcefile(a.schema) for a in algorithms().values())}
    out: dict[tuple[str, str], str] = {}
    for path in sorted(p for p in sources if p):
        out.update(source_comments(Path(path).read_text(encoding="utf-8")))
    return out


def source_comments(source: str) -> dict[tuple[str, str], str]:
    """(class name, field name) -> the comment beside the field, or the comment lines just above it."""
    comments: dict[int, str] = {}
    whole_line: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
            if not tok.line[: tok.start[1]].strip():
                whole_line.add(tok.start[0])
    out: dict[tuple[str, str], str] = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                above, line = [], item.lineno - 1
                while line in whole_line:
                    above.insert(0, comments[line])
                    line -= 1
                inline = comments.get(item.lineno) if item.lineno not in whole_line else None
                text = " ".join([*above, *([inline] if inline else [])])
                if text:
                    out[node.name, item.target.id] = text
    return out


def meaning(cls: type, name: str, comments: dict[tuple[str, str], str]) -> str:
    """The comment of ``name`` in ``cls`` or the nearest base class that has one."""
    for klass in cls.__mro__:
        if (klass.__name__, name) in comments:
            return comments[klass.__name__, name]
    raise ValueError(f"{cls.__name__}.{name} has no comment in its schema's source: document it there")


def prose(text: str | None) -> str:
    """A docstring or comment as one markdown line (reST ``code`` becomes `code`, pipes escaped)."""
    return " ".join((text or "").split()).replace("``", "`").replace("|", "\\|")


def fmt(value: Any) -> str:
    """A value as one would type it on the command line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return format(value, "g")
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(fmt(v) for v in value) + "]"
    return str(value)


def schema_default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return "???"


def key_table(cls: type, prefix: str, values: dict[str, Any], comments: dict[tuple[str, str], str]) -> list[str]:
    """A markdown table: key, type, default, meaning, for the scalar fields of ``cls``."""
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        if f.name in GROUPS + SECTIONS:  # nodes of their own, documented in their sections
            continue
        value = values.get(f.name, schema_default(f))
        kind = str(f.type).replace("|", "\\|")
        lines.append(f"| `{prefix}{f.name}` | `{kind}` | `{fmt(value)}` | {prose(meaning(cls, f.name, comments))} |")
    return lines


def header_comment(path: Path) -> str:
    """The leading comment lines of a YAML file, without ``@package``."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if not text.startswith("@package"):
            lines.append(text)
    return " ".join(lines)


def composed(*overrides: str) -> dict[str, Any]:
    """The config ``python -m asyncrl OVERRIDES`` composes, unresolved, as plain containers."""
    cfg = compose("config", overrides=list(overrides))
    return OmegaConf.to_container(cfg, resolve=False)  # type: ignore[return-value]


def changed(values: dict[str, Any], cls: type) -> list[str]:
    """``key=value`` for each value that differs from the schema default."""
    defaults = {f.name: schema_default(f) for f in dataclasses.fields(cls)}
    return [f"`{k}={fmt(v)}`" for k, v in values.items() if k in defaults and v != defaults[k]]


def group_section(group: str, comments: dict[tuple[str, str], str]) -> list[str]:
    """Every schema the group's options extend, then each option with what it changes."""
    options = sorted(p.stem for p in (CONF / group).glob("*.yaml"))
    # Under profile=paper, which sets no key away from its schema default: what remains is the option's own.
    nodes = {opt: composed(f"{group}={opt}", "profile=paper", *([] if group == "env" else NEUTRAL))[group]
             for opt in options}
    node_types = {opt: type_of(group, opt) for opt in options}
    lines = [f"## `{group}`", "", f"Options: {', '.join(f'`{o}`' for o in options)}.", ""]
    for cls in dict.fromkeys(node_types.values()):
        users = [o for o in options if node_types[o] is cls]
        doc = prose(cls.__doc__)
        lines += [f"### Schema `{cls.__name__}` ({', '.join(users)})", "", doc, ""]
        lines += key_table(cls, f"{group}.", {}, comments) + [""]
    lines += ["### Options", "", "| option | what it is | differs from its schema's defaults |", "|---|---|---|"]
    for opt in options:
        diff = ", ".join(changed(nodes[opt], node_types[opt])) or "-"
        lines.append(f"| `{group}={opt}` | {prose(header_comment(CONF / group / f'{opt}.yaml'))} | {diff} |")
    return lines + [""]


def type_of(group: str, option: str) -> type:
    """The dataclass an option's node is typed by."""
    cfg = compose("config", overrides=[f"{group}={option}", *([] if group == "env" else NEUTRAL)])
    return OmegaConf.get_type(schema_for(cfg)[group])  # type: ignore[return-value]


def flat(node: Any, prefix: str = "") -> list[str]:
    """``a.b=value`` for every leaf of a YAML mapping."""
    if not isinstance(node, dict):
        return [f"`{prefix}={fmt(node)}`"]
    return [item for k, v in node.items() for item in flat(v, f"{prefix}.{k}" if prefix else str(k))]


def yaml_files_section(group: str, title: str, intro: str) -> list[str]:
    """One row per YAML file of a global-package group: its comment and every key it sets."""
    lines = [title, "", intro, "", "| file | what it is | sets |", "|---|---|---|"]
    for path in sorted((CONF / group).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        data.pop("defaults", None)
        lines.append(f"| `{group}/{path.name}` | {prose(header_comment(path))} | {', '.join(flat(data))} |")
    return lines + [""]


def render() -> str:
    """The whole page."""
    register_configs()
    comments = field_comments()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        top = composed(*NEUTRAL)
        lines = [
            "# Configuration reference",
            "",
            "Generated by `python -m asyncrl.config_doc` from the schemas (`asyncrl/config.py`, and each",
            "algorithm's in its module under `asyncrl/learners/`) and the YAML files in `conf/` (a test fails",
            "when this file is stale; edit those, not this page).",
            "",
            "`python -m asyncrl KEY=VALUE ...` composes `conf/config.yaml`: one option of each group",
            "(`algo=a3c env=cartpole optim=rmsprop_shared profile=fast runtime=processes logger=none` by",
            "default), then the",
            "top-level keys, then `conf/tuned/<algo>_<env>.yaml` when that file exists, then the command line.",
            "The composed config is then merged into the schemas (the algorithm's from its declaration, the",
            "env's by `env.kind`): a key no schema declares, in any form (`key=`, `+key=`, `++key=`, a preset",
            "file), and a value of the wrong type are refused, then each schema checks its value ranges, all",
            "before any worker starts. Step counts are agent steps summed over workers (one agent step is",
            "`env.frame_skip` frames on Atari, one elsewhere).",
            "",
            "Where Atari and small vector tasks want different values, a default reads `${if_atari:A,B}`: A",
            "when the env is an Atari game (`env.kind=atari`), B for any other env. `${of_total_steps:F}` is",
            "the fraction F of `total_steps`, so a schedule written that way follows the run's budget; a",
            "number given on the command line (`algo.eps_anneal=20000`) replaces it.",
            "",
            "## Top-level keys",
            "",
            *key_table(Config, "", top, comments),
            "",
        ]
        for section in SECTIONS:
            cls = OmegaConf.get_type(finalize(compose("config", overrides=NEUTRAL))[section])
            doc = prose(cls.__doc__)
            lines += [f"## `{section}`", "", doc, "", *key_table(cls, f"{section}.", top[section], comments), ""]
        for group in GROUPS:
            lines += group_section(group, comments)
    lines += yaml_files_section(
        "logger", "## `logger`",
        "Options of a global group: each file sets top-level keys (`logger.*`, and `wandb.*` above). Several "
        "options at once merge: `logger=[wandb,tensorboard]` turns both on.")
    lines += yaml_files_section(
        "profile", "## `profile`",
        "Options of a global group: each file sets top-level keys, after the other groups and before the "
        "tuned presets (which, like the command line, override it). `${if_atari:A,B}` is A when the run's "
        "env is an Atari game (`env.kind=atari`), else B.")
    lines += yaml_files_section(
        "tuned", "## Tuned presets (`conf/tuned/`)",
        "Applied automatically, after the top-level keys, when `algo` and `env` match the file name "
        "(`<algo>_<env>.yaml`); the command line still overrides them.")
    lines += [
        "## Sampled values: the `loguniform` resolver",
        "",
        prose(config_module.loguniform.__doc__),
        "",
        "Quote it twice on the command line: single quotes keep the shell off the `$`, and the double",
        "quotes make Hydra's override parser pass the nested interpolation through:",
        "",
        "    python -m asyncrl -m optim=rmsprop_shared \"seed=range(0,20)\" \\",
        "        'optim.lr=\"${loguniform:1e-4,1e-2,${seed}}\"'",
        "",
        "`.hydra/config.yaml` keeps the interpolation; `summary.json` (key `config`) records the",
        "resolved value, which is what the workers use and what `benchmarks/` reads. Bounds with",
        "`low <= 0` or `low >= high` are rejected with one line naming the key.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="exit 1 when --out differs from the generated page")
    parser.add_argument("--print", action="store_true", help="write the page to stdout instead")
    args = parser.parse_args(argv)
    text = render()
    if args.print:
        sys.stdout.write(text)
        return 0
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: run python -m asyncrl.config_doc", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
