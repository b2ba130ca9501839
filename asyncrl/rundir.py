"""One run per directory: a run holds its directory while it runs, and never writes into another run's.

While a run trains, a lock file in its directory names its pid and host. A
second run into the directory is refused, naming that pid; a lock whose
process no longer exists (a run killed with SIGKILL, a machine that
rebooted) is taken over, and the run says so. A fresh run into a directory
that already holds a run (its metrics, summary or checkpoint) is refused,
pointing to ``resume=DIR``, which continues it, and to ``overwrite=true``,
which replaces it. So nothing a run wrote is overwritten by another run. A
directory that cannot be created or written is refused before anything
starts, in one line.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from types import TracebackType

from asyncrl.config import ConfigError

LOCK = ".asyncrl.lock"
# What a run writes into its directory, apart from .hydra/ (and wandb/ with logger=wandb); any of them
# means the directory holds a run. overwrite=true deletes them, a checkpoint left half-written, and the
# run's TensorBoard event files (which would otherwise show the replaced run's curves with the new one's).
RUN_FILES = ("metrics.jsonl", "summary.json", "checkpoint.pt")
REPLACED_WITH_THE_RUN = ("checkpoint.pt.tmp", "events.out.tfevents.*")


class RunDirectoryError(ConfigError):
    """The run directory is held by a running run, or holds an earlier run; nothing was written."""


def _alive(pid: int) -> bool:
    """True while a process with this pid exists on this machine and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def read_lock(run_dir: Path) -> tuple[int, str] | None:
    """(pid, host) written in ``run_dir``'s lock, or None when there is no readable lock."""
    try:
        pid_text, _, host = (run_dir / LOCK).read_text().partition(" ")
        return int(pid_text), host.strip()
    except (OSError, ValueError):
        return None


def holder(run_dir: Path) -> tuple[int, str] | None:
    """(pid, host) of the run holding ``run_dir``, or None when no live run holds it.

    A lock written on another host cannot be checked from here, so it counts as held.
    """
    lock = read_lock(run_dir)
    if lock is None or (lock[1] == socket.gethostname() and not _alive(lock[0])):
        return None
    return lock


def holds_a_run(run_dir: Path) -> bool:
    """True when ``run_dir`` has files an earlier run wrote."""
    return any((run_dir / name).exists() or (run_dir / name).is_symlink() for name in RUN_FILES)


def check_free(run_dir: Path, resume: bool, overwrite: bool) -> None:
    """Raise RunDirectoryError unless a run may start in ``run_dir`` now (it writes nothing)."""
    held = holder(run_dir)
    if held is not None:
        pid, host = held
        raise RunDirectoryError(f"{run_dir}: another run (pid {pid} on {host}) is training in this directory; "
                                "wait for it to end, or give this run another hydra.run.dir")
    if not resume and not overwrite and holds_a_run(run_dir):
        raise RunDirectoryError(f"{run_dir} holds a run already: resume={run_dir} continues it, "
                                "overwrite=true replaces it (its files are deleted), or give another hydra.run.dir")


def check_writable(directory: Path, key: str) -> None:
    """Raise RunDirectoryError, naming ``key``, unless ``directory`` can be created and written.

    Creates it (as training would next) and writes and deletes an empty file: a missing parent that
    cannot be made, a read-only filesystem, /proc or /sys, or no permission all fail here, in one line.
    """
    probe = directory / f".asyncrl-write-test-{os.getpid()}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise RunDirectoryError(f"{key}={str(directory)!r}: cannot create or write a directory there "
                                f"({exc.strerror or exc})") from None


class RunDirectory:
    """Holds ``run_dir`` for one run (a context manager); with ``overwrite`` an earlier run's files are deleted.

    Entering checks the directory (:func:`check_free`) and takes the lock, or
    raises RunDirectoryError having written nothing; leaving releases it.
    """

    def __init__(self, run_dir: Path, resume: bool, overwrite: bool) -> None:
        self.run_dir, self.resume, self.overwrite = run_dir, resume, overwrite
        self.lock = run_dir / LOCK

    def __enter__(self) -> RunDirectory:
        check_free(self.run_dir, self.resume, self.overwrite)
        check_writable(self.run_dir, "run_dir")
        stale = read_lock(self.run_dir)  # check_free found no live run behind it
        self.lock.unlink(missing_ok=True)
        try:
            fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:  # another run took the directory between the check and here
            check_free(self.run_dir, self.resume, self.overwrite)
            raise RunDirectoryError(f"{self.run_dir}: another run took this directory as this one started") from None
        with os.fdopen(fd, "w") as out:
            out.write(f"{os.getpid()} {socket.gethostname()}\n")
        if stale is not None:
            print(f"warning: {self.run_dir}: took over the lock of pid {stale[0]}, which is no longer running",
                  file=sys.stderr, flush=True)
        if self.overwrite and not self.resume:
            for pattern in (*RUN_FILES, *REPLACED_WITH_THE_RUN):
                for path in self.run_dir.glob(pattern):
                    path.unlink(missing_ok=True)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.lock.unlink(missing_ok=True)
