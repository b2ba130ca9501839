"""Published one-hour scores on the paper's Figure 1 games, to read asyncrl's hours against.

Each after one hour of training: the paper's A3C with 16 CPU threads (Pong's
read from the data of the paper's Figure 1, the others as the RLlib team read
them off the paper's curves), RLlib A2C (5 workers and a GPU on a 64-vCPU
node) and RLlib IMPALA (32 workers) as RLlib published them. None: no
figure published.
"""

from __future__ import annotations

# game id -> (paper A3C 16 threads, RLlib A2C, RLlib IMPALA), one hour each.
ANCHORS: dict[str, tuple[float | None, float | None, float | None]] = {
    "ALE/BeamRider-v5": (1000, 874, 3181),
    "ALE/Breakout-v5": (10, 268, 538),
    "ALE/Pong-v5": (-14.3, None, None),
    "ALE/Qbert-v5": (500, 1212, 10850),
    "ALE/SpaceInvaders-v5": (300, 518, 843),
}
ANCHOR_NAMES = ("paper A3C, 16 threads, 1 h", "RLlib A2C, 1 h", "RLlib IMPALA, 1 h")
ANCHOR_NOTE = ("Anchors: one hour of training each; the paper's A3C (16 CPU threads), Pong's read from the data of "
               "the paper's Figure 1, the others as the RLlib team read them off its curves; RLlib A2C (5 workers "
               "and a GPU, a 64-vCPU node) and RLlib IMPALA (32 workers) as RLlib published them. Scores are game "
               "scores (unclipped, all lives).")
