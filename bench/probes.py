"""Memory and CPU probes for benchmark modules (not a benchmark itself).

Peak memory: on Linux the peak resident size (VmHWM) can be restarted before a measured step
(``/proc/self/clear_refs``), so a figure is that step's own peak, not the largest of everything
the process did before; elsewhere the lifetime peak (``ru_maxrss``) is all there is.

CPU time: this process's plus the PostgreSQL server's (the postmaster and every process it
started, exited ones included), when the server runs on this machine. Unlike wall time it
barely moves when other programs keep the machine busy.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))
    except (OSError, StopIteration):
        return None


def restart_peak() -> bool:
    """Restart the peak-RSS count; False where only the lifetime peak exists."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return _status_kb("VmHWM") is not None


def memory_kb(per_step: bool) -> tuple[int, int]:
    """(resident now, peak) in kB: the peak since ``restart_peak()`` when ``per_step``, else the
    lifetime peak for both (``ru_maxrss``)."""
    if per_step:
        return _status_kb("VmRSS") or 0, _status_kb("VmHWM") or 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak, peak


def _stat(pid: int | str) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    return text[text.rindex(")") + 2 :].split()  # fields from "state" on; the name may hold spaces


def _server_ticks(postmaster: int) -> int:
    fields = _stat(postmaster)
    ticks = sum(int(x) for x in fields[11:15])  # its own time and that of its exited children
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = _stat(pid)
        except (OSError, ValueError):
            continue
        if int(fields[1]) == postmaster:
            ticks += int(fields[11]) + int(fields[12])
    return ticks


def cpu_clock(db) -> Callable[[], float] | None:
    """A clock of CPU seconds (this process + the local PostgreSQL server), or None when the
    server is not on this machine or /proc is not there."""
    import sqlalchemy as sa

    try:
        with db.engine.connect() as conn:
            backend = conn.scalar(sa.text("SELECT pg_backend_pid()"))
            data_dir = conn.scalar(sa.text("SELECT current_setting('data_directory')"))
        postmaster = int(_stat(backend)[1])
        # The postmaster works in its data directory: this proves the pid is our server's.
        if os.path.realpath(f"/proc/{postmaster}/cwd") != os.path.realpath(data_dir):
            return None
        _server_ticks(postmaster)
    except (OSError, ValueError, IndexError, sa.exc.DBAPIError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return lambda: time.process_time() + _server_ticks(postmaster) / tick
