"""``switchyard serve`` under cProfile with a CPU-time clock (``time.process_time``), so that
what a loaded machine's other work does to wall time does not show up in the profile.
SIGUSR2 starts a fresh profile, SIGUSR1 stops it and writes the stats to ``OUT`` (the
benchmark profiles one phase so); without signals nothing is profiled.

    PYTHONPATH=src .venv/bin/python bench/profile_serve.py OUT.prof serve --config c.yaml --port 8000
    .venv/bin/python -c "import pstats; pstats.Stats('OUT.prof').sort_stats('tottime').print_stats(40)"
"""

from __future__ import annotations

import cProfile
import signal
import sys
import time
from types import FrameType


def main() -> int:
    out, argv = sys.argv[1], sys.argv[2:]
    from switchyard.cli import main as cli_main

    profile: list[cProfile.Profile] = []

    def begin(_sig: int, _frame: FrameType | None) -> None:
        profile[:] = [cProfile.Profile(time.process_time)]
        profile[0].enable()

    def end(_sig: int, _frame: FrameType | None) -> None:
        if profile:
            profile[0].disable()
            profile[0].dump_stats(out)
            profile.clear()

    signal.signal(signal.SIGUSR2, begin)
    signal.signal(signal.SIGUSR1, end)
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
