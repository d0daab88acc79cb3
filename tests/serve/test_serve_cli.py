"""`derive serve` as a real process on a free port of 127.0.0.1: it answers, checks an answer over HTTP, and
stops cleanly on SIGTERM (one line, exit status 0, no traceback), with one and with two worker
processes; a bad problem file, a busy port or an unwritable log is one line and exit 2 before serving."""

from __future__ import annotations

import json
import socket
import urllib.request

from cli_helpers import assert_bad_input, assert_no_traceback, run_cli, write_problem
from serve_helpers import CORRECT, EXAMPLE, SIGN_ERROR, Served


def _check(url: str, answer: str) -> dict:
    request = urllib.request.Request(url + "api/check", method="POST", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"problem": "one_layer_scalar", "gradient": "w",
                                                      "answer": answer}).encode())
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _stopped_cleanly(served: Served) -> None:
    assert_no_traceback(served)
    assert served.returncode == 0, (served.returncode, served.stderr)
    assert served.stderr.splitlines()[-1] == "stopped serving", served.stderr


def test_serve_answers_checks_and_stops_on_sigterm(tmp_path):
    log = tmp_path / "answers.jsonl"
    with Served(EXAMPLE, "--log", log) as served:
        assert _check(served.url, CORRECT)["line"] == "correct"
        assert _check(served.url, SIGN_ERROR)["line"] == "incorrect: sign"
    _stopped_cleanly(served)
    assert served.stderr.splitlines()[0] == f"serving 1 problem at {served.url} (1 process; Ctrl-C stops)"
    assert [json.loads(line)["verdict"] for line in log.read_text().splitlines()] == ["correct", "incorrect"]


def test_serve_with_two_worker_processes(tmp_path):
    with Served(EXAMPLE, "--workers", "2") as served:
        assert [_check(served.url, CORRECT)["line"] for _ in range(3)] == ["correct"] * 3
    _stopped_cleanly(served)
    assert list(tmp_path.iterdir()) == []  # no --log: nothing stored


def test_a_bad_problem_file_is_one_line_before_serving(tmp_path):
    bad = write_problem(tmp_path, """
        symbols: [x]
        definitions: [L = x^{]
        loss: L
        wrt: [x]
    """)
    message = assert_bad_input(run_cli(tmp_path, "serve", EXAMPLE, bad, "--port", "1"), tmp_path, None)
    assert "p.yaml" in message


def test_a_busy_port_is_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        message = assert_bad_input(run_cli(tmp_path, "serve", EXAMPLE, "--port", port), tmp_path, None)
    assert message.startswith(f"cannot listen on 127.0.0.1:{port}")


def test_an_unwritable_log_is_one_line(tmp_path):
    message = assert_bad_input(run_cli(tmp_path, "serve", EXAMPLE, "--port", "1", "--log", tmp_path / "no" / "log"),
                               tmp_path, None)
    assert message.startswith("cannot append to the log")
