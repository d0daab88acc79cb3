"""Running `derive serve` for real in tests: a free port on 127.0.0.1 (`free_port`), and `Served`, which starts
the command, waits until the page answers, and stops it with SIGTERM, keeping what it printed and its exit
status. Shared by tests/serve and tests/web."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "one_layer_scalar.yaml"
CORRECT = r"(\hat{y} - y) \hat{y} (1 - \hat{y}) x"  # `derive solve examples/one_layer_scalar.yaml`: dL/dw
SIGN_ERROR = r"-(\hat{y} - y) \hat{y} (1 - \hat{y}) x"
MALFORMED = r"\frac{(\hat{y} - y)"


def free_port() -> int:
    """A port nothing listens on: the one the system picks for a socket bound to port 0."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    """`derive serve ARGS --port P` as a process, for a `with` block: `url` answers inside it; after it,
    `returncode`, `stdout` and `stderr` say how it ended (stopped by SIGTERM)."""

    def __init__(self, *args, cwd: Path = ROOT, wait: float = 120.0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.args = [sys.executable, "-m", "derive", "serve", *map(str, args), "--port", str(self.port)]
        self.cwd, self.wait = cwd, wait
        self.returncode, self.stdout, self.stderr = None, "", ""

    def __enter__(self) -> "Served":
        env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
        self.process = subprocess.Popen(self.args, cwd=self.cwd, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + self.wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._finish()
                raise AssertionError(f"derive serve ended before serving: {self.returncode}\n{self.stderr}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"derive serve did not answer within {self.wait:g} s\n{self.stderr}")

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self._finish()

    def _finish(self) -> None:
        try:
            self.stdout, self.stderr = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.stdout, self.stderr = self.process.communicate()
        self.returncode = self.process.returncode
