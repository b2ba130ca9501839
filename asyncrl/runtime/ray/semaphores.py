"""Named semaphores a Ray group leaves behind, and how the driver removes them.

A group's shared counters, events and record queue are POSIX named
semaphores: files ``/dev/shm/sem.<name>`` on its node. multiprocessing
unlinks them when the process that created them exits normally, but Ray ends
a group (and restarts a failed one) by killing it, so its files would stay on
the node, one set per group and per restart. Each group therefore names its
semaphores with a prefix the driver can derive (the run, the group and its
incarnation), and the driver removes them on their node: a killed
incarnation's once Ray has restarted it, and all of the run's when it ends.
"""

from __future__ import annotations

import glob
import multiprocessing.process
import os

SHM = "/dev/shm"


def run_prefix(run_id: str) -> str:
    """The name prefix of every semaphore of one run (``run_id``: letters and digits)."""
    return f"asyncrl-{run_id}-"


def group_prefix(run_id: str, group: int, incarnation: int) -> str:
    """The name prefix of one group incarnation's semaphores."""
    return f"{run_prefix(run_id)}g{group}-i{incarnation}-"


def name_semaphores(prefix: str) -> None:
    """Name every semaphore this process creates from now on ``/dev/shm/sem.<prefix><random>``.

    multiprocessing names them ``<semprefix>-<random>`` with the process's
    ``semprefix`` (``/mp`` by default), for which there is no public setter;
    ``prefix`` ends with that ``-``.
    """
    if not prefix.endswith("-") or "/" in prefix:
        raise ValueError(f"a semaphore prefix ends with '-' and has no '/', got {prefix!r}")
    multiprocessing.process.current_process()._config["semprefix"] = "/" + prefix[:-1]  # type: ignore[attr-defined]


def semaphore_files(prefix: str, shm: str = SHM) -> list[str]:
    """The semaphore files on this node whose name starts with ``prefix``."""
    return sorted(glob.glob(os.path.join(glob.escape(shm), f"sem.{glob.escape(prefix)}*")))


def remove_semaphores(prefix: str, shm: str = SHM) -> int:
    """Remove this node's semaphore files named ``prefix...``; how many there were.

    Unlinking a name does not disturb a process that still has the semaphore
    open: it keeps working until that process exits.
    """
    removed = 0
    for path in semaphore_files(prefix, shm):
        try:
            os.unlink(path)
            removed += 1
        except FileNotFoundError:
            pass  # another remover was first
    return removed
