"""Scores at given wall times: the mean of the last ``--window`` episodes at 15, 30 and 60 minutes.

Reads any run directories (or sweep directories holding them) through their
``summary.json`` and ``metrics.jsonl`` and writes one markdown row per game
(``env``) and group of ``--by`` config keys (default ``algo.name``): the mean
return of the last ``--window`` training episodes finished by each of
``--minutes`` of wall time since the run started (worker start-up included;
fewer episodes when fewer had finished, "-" for none or for a run that had
stopped before then), the frames played by then, and, for the five games of
the paper's Figure 1, one-hour anchors from elsewhere beside them.

The anchors are in ``anchors.py``.

    asyncrl-score-at bench-out/atari-hour --minutes 15 30 60 --out bench-out/atari-hour.md
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from asyncrl.analysis.anchors import ANCHOR_NAMES, ANCHOR_NOTE, ANCHORS
from asyncrl.analysis.runs import (
    argument_parser,
    group_runs,
    load_episodes,
    load_runs,
    markdown_table,
    run_value,
    write_text,
)


def score_at(run: dict[str, Any], seconds: float, window: int) -> tuple[float, float] | None:
    """(mean of the last ``window`` returns, frames) of the episodes finished by ``seconds``, None if none.

    None too when the run had ended before ``seconds`` (its score then is not a score at that time).
    """
    episodes = load_episodes(run["dir"])
    if run.get("wall_s", float("inf")) < seconds - 1.0:  # a second of slack for the final records
        return None
    done = np.searchsorted(episodes.wall, seconds, side="right")
    if done == 0:
        return None
    return float(episodes.returns[max(0, done - window):done].mean()), float(episodes.frames[done - 1])


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def table(runs: list[dict[str, Any]], keys: list[str], minutes: list[float], window: int) -> str:
    """Markdown: per game and group, the mean score (and frames) at each time, then the anchors."""
    header = ["game", *keys, "runs", *(f"last-{window} mean at {m:g} min (frames)" for m in minutes), *ANCHOR_NAMES]
    rows = []
    for (game, *group), members in group_runs(runs, ["env", *keys]).items():
        cells = []
        for m in minutes:
            points = [p for p in (score_at(r, 60.0 * m, window) for r in members) if p is not None]
            if not points:
                cells.append("-")
                continue
            score, frames = float(np.mean([p[0] for p in points])), float(np.mean([p[1] for p in points]))
            cells.append(f"{_fmt(score)} ({frames / 1e6:.1f}M)")
        anchors = ANCHORS.get(str(game), (None, None, None))
        rows.append([str(game), *(str(v) for v in group), str(len(members)), *cells, *(_fmt(a) for a in anchors)])
    return markdown_table(header, rows)


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--by", nargs="+", default=["algo.name"], help="config keys: one row per group and game")
    parser.add_argument("--minutes", nargs="+", type=float, default=[15, 30, 60], help="wall times, in minutes")
    parser.add_argument("--window", type=int, default=100, help="episodes in each mean")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    runs = load_runs(parser, args.dirs, args.by)
    text = table(runs, args.by, args.minutes, args.window)
    if any(run_value(r, "env") in ANCHORS for r in runs):
        text += "\n\n" + ANCHOR_NOTE
    write_text(args.out, text)


if __name__ == "__main__":
    main()
