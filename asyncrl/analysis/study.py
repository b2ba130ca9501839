"""An adaptive search (Hydra's Optuna sweeper) against a random one: where each trial looked, and how fast
the best score rose.

Each directory given is one search: a sweep whose job directories hold a
``summary.json``. Trials are taken in job order (the order the search tried
them); a trial's parameter is ``--param`` of the resolved config it recorded,
and its score is ``summary.json``'s ``score`` (what the study maximized: the
final evaluation's mean, or the last ``env.solved_window`` training episodes'
with evaluation off; a failed trial has none). A random search run as a
seed sweep with a ``loguniform`` parameter reads the same way, its seeds in
order.

Left: the parameter each trial tried (log scale), coloured by its score.
Right: the best score so far against trials. Writes the figure to ``--out``
and a markdown table next to it (``.md``): per search, the trials, how many
reached each ``--thresholds``, the best score and its parameter, and the
trial that first reached each threshold.

    python -m asyncrl -m hydra/sweeper=optuna hydra.sweeper.n_trials=20 hydra.sweeper.sampler.seed=0 \\
        'optim.lr=tag(log,interval(1e-4,1e-2))' hydra.sweep.dir=study
    asyncrl-study study random-search --param optim.lr --thresholds 195 --out study.png
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from asyncrl.analysis.runs import (  # noqa: E402
    argument_parser,
    config_value,
    fail,
    load_run,
    markdown_table,
    write_figure,
    write_text,
)


def trials(sweep: Path, param: str) -> list[tuple[float | None, float | None]]:
    """(parameter, score) of each job of ``sweep``, in job order."""
    jobs = sorted((d for d in sweep.iterdir() if d.is_dir() and d.name.isdigit() and (d / "summary.json").exists()),
                  key=lambda d: int(d.name))
    out = []
    for job in jobs:
        run = load_run(job)
        value = config_value(run["config"], param)
        out.append((None if value is None else float(value), run.get("score")))
    return out


def running_best(scores: list[float | None]) -> list[float | None]:
    """The best score among the first k trials, for each k (None until one has a score)."""
    best: float | None = None
    out = []
    for score in scores:
        if score is not None and (best is None or score > best):
            best = score
        out.append(best)
    return out


def summary_row(name: str, rows: list[tuple[float | None, float | None]], thresholds: list[float]) -> list[str]:
    scored = [(p, s) for p, s in rows if s is not None]
    best_param, best = max(scored, key=lambda ps: ps[1]) if scored else (None, None)
    cells = [name, str(len(rows)), str(len(rows) - len(scored))]
    for threshold in thresholds:
        reached = [k for k, (_, s) in enumerate(rows, start=1) if s is not None and s >= threshold]
        cells += [f"{len(reached)}/{len(rows)}", str(reached[0]) if reached else "-"]
    cells += ["-" if best is None else f"{best:.1f}", "-" if best_param is None else f"{best_param:.2e}"]
    return cells


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--param", required=True, help="the searched config key, e.g. optim.lr")
    parser.add_argument("--names", nargs="*", default=None, help="a label per directory (default: its name)")
    parser.add_argument("--thresholds", nargs="*", type=float, default=[], help="scores to count and draw")
    parser.add_argument("--title", default=None, help="the figure's title")
    parser.add_argument("--out", type=Path, default=Path("study.png"), help="the figure; the table goes to .md")
    args = parser.parse_args()
    names = args.names or [d.name for d in args.dirs]
    if len(names) != len(args.dirs):
        fail(parser, f"--names: {len(names)} names for {len(args.dirs)} directories")
    searches: dict[str, Any] = {}
    for name, sweep in zip(names, args.dirs, strict=True):
        rows = trials(sweep, args.param) if sweep.is_dir() else []
        if not rows:
            fail(parser, f"{sweep}: no job directories (0, 1, ...) with a summary.json")
        if all(p is None for p, _ in rows):
            fail(parser, f"{args.param}: no trial of {sweep} has this key")
        searches[name] = rows

    fig, (where, best) = plt.subplots(1, 2, figsize=(11, 4.2))
    scores = [s for rows in searches.values() for _, s in rows if s is not None]
    low, high = (min(scores), max(scores)) if scores else (0.0, 1.0)
    markers = "os^Dv"
    for i, (name, rows) in enumerate(searches.items()):
        xs = [k for k, (p, s) in enumerate(rows, start=1) if p is not None and s is not None]
        points = where.scatter(xs, [p for p, s in rows if p is not None and s is not None],
                               c=[s for p, s in rows if p is not None and s is not None], cmap="viridis",
                               vmin=low, vmax=high, marker=markers[i % len(markers)], label=name,
                               edgecolors="black", linewidths=0.4)
        failed = [(k, p) for k, (p, s) in enumerate(rows, start=1) if p is not None and s is None]
        if failed:
            where.scatter(*zip(*failed, strict=True), marker="x", color="red")
        best.step(range(1, len(rows) + 1), [float("nan") if b is None else b for b in running_best(
            [s for _, s in rows])], where="post", label=name)
    fig.colorbar(points, ax=where, label="score")
    where.set(yscale="log", xlabel="trial", ylabel=args.param, title=f"{args.param} tried by each trial")
    where.legend(loc="best", fontsize=8)
    for threshold in args.thresholds:
        best.axhline(threshold, color="grey", linestyle=":", linewidth=1)
        best.annotate(f"{threshold:g}", (1, threshold), textcoords="offset points", xytext=(2, 2), fontsize=8,
                      color="grey")
    best.set(xlabel="trial", ylabel="best score so far", title="best score so far")
    best.legend(loc="lower right", fontsize=8)
    if args.title:
        fig.suptitle(args.title)
    fig.tight_layout()
    write_figure(fig, args.out)

    header = ["search", "trials", "failed"]
    for threshold in args.thresholds:
        header += [f">= {threshold:g}", f"first >= {threshold:g} (trial)"]
    header += ["best score", f"its {args.param}"]
    table = markdown_table(header, [summary_row(name, rows, args.thresholds) for name, rows in searches.items()])
    write_text(args.out.with_suffix(".md"), table)


if __name__ == "__main__":
    main()
