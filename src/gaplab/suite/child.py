"""`python -m gaplab.suite.child CPU_FILE run ...`: one scenario of a suite. It is `lab
run ...` in this process, and on the way out writes the CPU seconds (user + system) of
this process and of the processes it started and waited for (the target, the demo) to
CPU_FILE, which the suite reports per scenario (bench/suite.py prints them)."""

from __future__ import annotations

import resource
import sys
from pathlib import Path


def _cpu_seconds() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def main() -> None:
    cpu_file, args = Path(sys.argv[1]), sys.argv[2:]
    from gaplab.cli import main as lab

    try:
        lab.main(args=args, prog_name="lab")
    finally:
        cpu_file.write_text(f"{_cpu_seconds():.3f}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
