"""How fast the practice page decides: `derive serve examples/one_layer_scalar.yaml` started on a free port of
127.0.0.1 with --workers 1 and then 2, and a bounded number of verdict requests (a correct scalar answer)
sent by a few client threads of this process; prints requests per second, the median and 95th-percentile
latency of one verdict, and the server's memory (resident set of its processes, deciding children excluded).
Only loopback traffic; each run stops by itself.

    python benchmarks/serve.py [--requests 200] [--clients 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from serve_helpers import CORRECT, EXAMPLE, Served  # noqa: E402


def _check(url: str) -> float:
    body = json.dumps({"problem": "one_layer_scalar", "gradient": "w", "answer": CORRECT}).encode()
    request = urllib.request.Request(url + "api/check", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        assert json.loads(response.read())["line"] == "correct"
    return time.perf_counter() - start


def _resident_mb(pid: int) -> float:
    """The resident memory of `pid` and its descendants that are server processes (not deciding children)."""
    import subprocess

    out = subprocess.run(["ps", "-eo", "pid=,ppid=,rss=,args="], capture_output=True, text=True).stdout
    rows = [line.split(None, 3) for line in out.splitlines()]
    family, total = {pid}, 0
    for _ in range(4):
        family |= {int(r[0]) for r in rows if int(r[1]) in family}
    for r in rows:
        if int(r[0]) in family:
            total += int(r[2])
    return total / 1024


def measure(workers: int, requests: int, clients: int) -> None:
    with Served(EXAMPLE, "--workers", workers, "--rate", "100000") as served:
        _check(served.url)  # warm
        latencies: list[float] = []
        lock = threading.Lock()
        counter = iter(range(requests))

        def client():
            for _ in counter:
                seconds = _check(served.url)
                with lock:
                    latencies.append(seconds)

        start = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        memory = _resident_mb(served.process.pid)
    latencies.sort()
    print(f"--workers {workers}: {requests / wall:.1f} verdicts/s ({requests} requests, {clients} clients), "
          f"latency median {1000 * statistics.median(latencies):.0f} ms, 95% {1000 * latencies[int(0.95 * len(latencies)) - 1]:.0f} ms; "
          f"server memory {memory:.0f} MB resident")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    options = parser.parse_args()
    for workers in (1, 2):
        measure(workers, options.requests, options.clients)
    single = []
    with Served(EXAMPLE, "--rate", "100000") as served:
        _check(served.url)
        single = [_check(served.url) for _ in range(20)]
    print(f"one client, one at a time: latency median {1000 * statistics.median(single):.0f} ms")


if __name__ == "__main__":
    main()
