"""Atomic publication of a run folder: one lock per folder, a staging folder beside it, a swap.

A run builds ``<output>/<force>/.<quarter>.staging-<pid>`` (a copy of the previous publication
without its manifest, so reused reports are there and notebooks may write), writes
``manifest.json`` last, then swaps the staging folder in whole:

- no publication yet: one ``rename``;
- a publication: ``renameat2(RENAME_EXCHANGE)`` swaps the two folders in one step where the
  filesystem supports it; elsewhere the old folder is renamed to ``.<quarter>.previous-<pid>``
  and the new one into place, and the next run restores the previous one if a kill fell between
  the two renames.

A killed run therefore leaves the previous complete publication as it was (plus a stale
staging folder that the next run removes). The lock (``.<quarter>.lock``, ``fcntl.flock``)
makes a second run into the same folder stop with exit code 2 instead of racing.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import logging
import os
import shutil
from pathlib import Path

from analysis.ingest.checks import fsync_path
from analysis.pack.manifest import MANIFEST_NAME, read_manifest, write_manifest
from analysis.pack.plan import PackInputError

log = logging.getLogger("analysis.pack")

RENAME_EXCHANGE = 2  # linux/fs.h


class Publication:
    """The publication folder ``run_dir`` of one run, locked for the run's lifetime.

    Use as a context manager: on entry it takes the folder's lock, repairs what a killed run
    left, and prepares :attr:`staging`; :meth:`publish` swaps staging in; on exit an unpublished
    staging folder is removed and the lock released.
    """

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.parent = run_dir.parent
        self.lock_path = self.parent / f".{run_dir.name}.lock"
        self.staging = self.parent / f".{run_dir.name}.staging-{os.getpid()}"
        self.previous: dict | None = None
        self._lock = None
        self._published = False

    def __enter__(self) -> Publication:
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.lock_path, "a+")  # noqa: SIM115 - held for the run
        except OSError as err:
            message = f"cannot write the output folder {self.parent}: {err.strerror}"
            raise PackInputError(message) from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.seek(0)
            holder = self._lock.read().strip() or "unknown"
            self._lock.close()
            raise PackInputError(
                f"another crimeplan run (pid {holder}) is writing {self.run_dir}; wait for it "
                "to finish or use another --output-dir"
            ) from None
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write(str(os.getpid()))
        self._lock.flush()
        self.recover()
        self.previous = read_manifest(self.run_dir) if self.run_dir.is_dir() else None
        self._prepare_staging()
        return self

    def __exit__(self, *exc) -> None:
        if not self._published:
            shutil.rmtree(self.staging, ignore_errors=True)
        if self._lock is not None:
            self._lock.close()  # releases the lock
            self._lock = None

    def recover(self) -> None:
        """Repair what a killed run left (called under the lock): restore a previous publication
        that was moved aside but not replaced, then delete stale staging and previous folders."""
        stem = self.run_dir.name
        previous = sorted(self.parent.glob(f".{stem}.previous-*"))
        if not self.run_dir.exists() and previous:
            complete = [p for p in previous if (p / MANIFEST_NAME).is_file()]
            if complete:
                os.rename(complete[-1], self.run_dir)
                log.warning("restored the publication %s left aside by a killed run", self.run_dir)
        for stale in [*self.parent.glob(f".{stem}.staging-*"), *self.parent.glob(f".{stem}.previous-*")]:  # fmt: skip
            shutil.rmtree(stale, ignore_errors=True)

    def _prepare_staging(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        if self.previous is not None:
            shutil.copytree(
                self.run_dir, self.staging, ignore=shutil.ignore_patterns(MANIFEST_NAME, "*.tmp")
            )
        else:
            self.staging.mkdir(parents=True)

    def publish(self, manifest: dict) -> None:
        """Write ``manifest`` last into staging, flush everything to disk, and swap it in."""
        _fsync_tree(self.staging)
        write_manifest(manifest, self.staging)
        fsync_path(self.staging)
        if not self.run_dir.exists():
            os.rename(self.staging, self.run_dir)
        elif _exchange(self.staging, self.run_dir):
            shutil.rmtree(self.staging)  # now the old publication
        else:
            aside = self.parent / f".{self.run_dir.name}.previous-{os.getpid()}"
            os.rename(self.run_dir, aside)
            os.rename(self.staging, self.run_dir)
            shutil.rmtree(aside)
        fsync_path(self.parent)
        self._published = True


def _exchange(a: Path, b: Path) -> bool:
    """Swap folders ``a`` and ``b`` in one step (Linux ``renameat2``); False when unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), RENAME_EXCHANGE)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def _fsync_tree(root: Path) -> None:
    """fsync every file and folder under ``root`` (the swap must never expose unwritten data)."""
    for folder, _, files in os.walk(root):
        for name in files:
            fsync_path(Path(folder, name))
        fsync_path(Path(folder))


def die_with_parent(parent_pid: int) -> None:
    """Make this (worker) process receive SIGKILL when its parent dies (``PR_SET_PDEATHSIG``),
    so no worker outlives a killed run; exit at once if the parent is already gone."""
    import signal

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent_pid:
        os._exit(1)


def kill_children() -> None:
    """Kill every descendant of this process (workers and their kernels), e.g. on SIGTERM."""
    import psutil

    for child in psutil.Process().children(recursive=True):
        try:
            child.kill()
        except psutil.Error:
            pass
