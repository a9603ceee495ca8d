"""Wall time of the quick commands (`forecast validate`, `forecast data show`): median of 5.

    python benchmarks/cli_startup.py [--repeat N]

Each command runs in a fresh interpreter (what a user pays: imports, data loading, the
checks), from the repository root, with this checkout first on PYTHONPATH. A benchmark,
not a timed test: the numbers depend on the machine and its load (printed beside them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "forecast validate scenarios/status_quo.toml": ["validate", "scenarios/status_quo.toml"],
    "forecast validate scenarios/*.toml": ["validate", *sorted(str(p.relative_to(ROOT))
                                                              for p in (ROOT / "scenarios").glob("*.toml"))],
    "forecast data show": ["data", "show"],
}


def time_command(args: list[str], repeat: int) -> list[float]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "forecast.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"forecast {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (default 5)")
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for label, argv in COMMANDS.items():
        times = time_command(argv, args.repeat)
        print(f"{label:45s} median {statistics.median(times):5.2f} s  "
              f"(min {min(times):.2f}, max {max(times):.2f}, n={len(times)})")


if __name__ == "__main__":
    main()
