"""``python -m bench.child MEMFILE [--profile PROF] -- ARGS``: run ``python -m nsshutdown ARGS``
and, at exit, write the process's own peak RSS to MEMFILE.

The kernel's ``ru_maxrss`` of a child (``wait4``, ``RUSAGE_CHILDREN``) carries over the parent's
peak across ``fork``/``exec``, so a child started by a large parent reports the parent's size.
``VmHWM`` in ``/proc/self/status`` belongs to the address space ``exec`` created: the child alone.
"""

from __future__ import annotations

import atexit
import runpy
import sys
from pathlib import Path


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    memfile, rest = Path(sys.argv[1]), sys.argv[2:]
    profile = None
    if rest[:1] == ["--profile"]:
        profile, rest = rest[1], rest[2:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    atexit.register(lambda: memfile.write_text(f"{_status_mib('VmHWM'):.1f}\n"))
    sys.argv = ["nsshutdown", *rest]
    if profile is not None:
        _profile_every_thread(Path(profile))
    runpy.run_module("nsshutdown", run_name="__main__", alter_sys=True)


def _profile_every_thread(path: Path) -> None:
    """cProfile sees one thread; the run lists and writes from a pool. Give every thread its own
    profiler and merge them all at exit (times of blocked calls are wall time, per thread)."""
    import cProfile
    import pstats
    import threading

    profilers = [cProfile.Profile()]
    original_run = threading.Thread.run

    def run(self: threading.Thread) -> None:
        profiler = cProfile.Profile()
        profilers.append(profiler)
        profiler.runcall(original_run, self)

    def dump() -> None:
        profilers[0].disable()
        stats = pstats.Stats(profilers[0])
        for other in profilers[1:]:
            stats.add(other)
        stats.dump_stats(str(path))

    threading.Thread.run = run  # type: ignore[method-assign]
    atexit.register(dump)  # registered after the VmHWM writer, so it runs first
    profilers[0].enable()


if __name__ == "__main__":
    main()
