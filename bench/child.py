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
    if profile is None:
        runpy.run_module("nsshutdown", run_name="__main__", alter_sys=True)
        return
    import cProfile

    profiler = cProfile.Profile()
    atexit.register(lambda: profiler.dump_stats(profile))  # runs before the VmHWM write
    profiler.runcall(runpy.run_module, "nsshutdown", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
