"""How long the front door takes: `derive --version`, `derive --help`, `import derive`, against a bare
interpreter, each a fresh process; the fastest of --repeat runs and the median. The target: `derive --version`
and `derive --help` under 0.15 s on 2 cores (they import click and derive's command modules, nothing else).

    python benchmarks/startup.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET = 0.15  # seconds, for --version and --help


def seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    repeat = parser.parse_args().repeat
    beside = Path(sys.executable).with_name("derive")  # the script of this interpreter's installation
    script = str(beside) if beside.exists() else shutil.which("derive")
    cases = {
        "python -c pass (the interpreter alone)": [sys.executable, "-c", "pass"],
        "python -c 'import derive'": [sys.executable, "-c", "import derive"],
        "derive --version": [script, "--version"] if script else [sys.executable, "-m", "derive", "--version"],
        "derive --help": [script, "--help"] if script else [sys.executable, "-m", "derive", "--help"],
        "python -c 'import derive; derive.Network' (loads SymPy)": [sys.executable, "-c", "import derive; derive.Network"],
    }
    print(f"{'command':<58} {'fastest s':>10} {'median s':>10}")
    for name, command in cases.items():
        times = [seconds(command) for _ in range(repeat)]
        print(f"{name:<58} {min(times):10.3f} {statistics.median(times):10.3f}")
    print(f"target: derive --version and --help under {TARGET} s")


if __name__ == "__main__":
    main()
