"""Shared benchmark helpers: run a command in a fresh process and measure it."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

GIB = 1024**3


@dataclass
class Measurement:
    """One measured child process.

    Attributes
    ----------
    name : str
        Label of the candidate.
    seconds : float
        Wall-clock time from start to exit.
    peak_rss_bytes : int
        Maximum resident set size of the child (``ru_maxrss`` from ``wait4``).
    returncode : int
        Exit status (negative: killed by that signal).
    killed_over_cap : bool
        True when the watchdog stopped the child for exceeding the RSS cap.
    stderr_tail : str
        Last lines of the child's stderr (for failures).
    cpu_seconds : float
        User + system CPU seconds of the child (``wait4``; its threads included, not its own
        children).
    """

    name: str
    seconds: float
    peak_rss_bytes: int
    returncode: int
    killed_over_cap: bool = False
    stderr_tail: str = ""
    cpu_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.killed_over_cap

    def as_dict(self) -> dict:
        out = asdict(self)
        out["peak_rss_gib"] = round(self.peak_rss_bytes / GIB, 3)
        out["ok"] = self.ok
        return out


def run_measured(
    name: str,
    cmd: list[str],
    *,
    rss_cap_bytes: int | None = None,
    log_path: Path | None = None,
    env: dict[str, str] | None = None,
) -> Measurement:
    """Run ``cmd`` as a fresh child process; return its wall time and peak RSS.

    Peak RSS is the kernel's ``ru_maxrss`` for the child, read with :func:`os.wait4` (Linux
    reports KiB). A watchdog polls the child's RSS every 0.2 s and kills it when it exceeds
    ``rss_cap_bytes``, so a memory-hungry candidate cannot starve the shared machine.
    """
    log_path = log_path or Path(os.devnull)
    killed = threading.Event()
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, env=env)
        done = threading.Event()

        def watch() -> None:
            try:
                ps = psutil.Process(proc.pid)
                while not done.wait(0.2):
                    if rss_cap_bytes and ps.memory_info().rss > rss_cap_bytes:
                        killed.set()
                        proc.kill()
                        return
            except psutil.Error:
                return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    tail = ""
    if log_path != Path(os.devnull) and proc.returncode != 0:
        tail = "\n".join(Path(log_path).read_text(errors="replace").splitlines()[-5:])
    return Measurement(
        name=name,
        seconds=seconds,
        peak_rss_bytes=usage.ru_maxrss * 1024,
        returncode=proc.returncode,
        killed_over_cap=killed.is_set(),
        stderr_tail=tail,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
    )
