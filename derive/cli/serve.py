"""`derive serve PROBLEM [PROBLEM ...]`: the practice page, a local web app where students check their answers."""

from __future__ import annotations

import socket
from pathlib import Path

import click

from ..core.errors import DeriveError


@click.command()
@click.argument("problems", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on (0.0.0.0: every network the machine is on).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="The port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes (each reads the problems and decides answers in children of its own).")
@click.option("--time-limit", default=20.0, show_default=True, type=click.FloatRange(0, 3600, min_open=True),
              help="Seconds of clock time per answer; when they run out the answer is undecided.")
@click.option("--memory-limit", default=2048, show_default=True, type=click.IntRange(256, 1 << 20),
              help="MB of address space for the process deciding an answer; beyond it the answer is undecided.")
@click.option("--log", "log", type=click.Path(dir_okay=False, path_type=Path),
              help="Append each checked answer to this file as a JSON line (time, problem, gradient, answer, "
                   "verdict). Without it answers are not stored.")
@click.option("--rate", default=20.0, show_default=True, type=click.FloatRange(0, 100_000, min_open=True),
              help="Checks per minute a client may ask for (after a burst of 5); more get HTTP 429.")
@click.option("--trust-problem", is_flag=True, help="Allow a problem with 'syntax: sympy' (its parser evaluates Python).")
def serve(problems: tuple[Path, ...], host: str, port: int, workers: int, time_limit: float, memory_limit: int,
          log: Path | None, rate: float, trust_problem: bool):
    """Serve the practice page for PROBLEMS: a student picks a problem, types the gradient in LaTeX, sees it
    rendered, and gets the verdict `derive verify` would give. Ctrl-C or SIGTERM stops it (exit status 0)."""
    import os

    import uvicorn

    from ..serve.config import VARIABLE, Settings
    from ..serve.problems import load_practice

    settings = Settings(problems=[str(p) for p in problems], time_limit=time_limit, memory_limit=memory_limit,
                        log=str(log) if log else None, trust_problem=trust_problem, checks_per_minute=rate)
    practice = load_practice(list(problems), trust_problem)  # a bad file is one line, before anything listens
    if log is not None:
        _check_log(log)
    _check_address(host, port)
    options = dict(host=host, port=port, log_level="warning", access_log=False, server_header=False,
                   proxy_headers=False, timeout_keep_alive=5, h11_max_incomplete_event_size=16 * 1024)
    where = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
    click.echo(f"serving {len(practice)} problem{'s' * (len(practice) != 1)} at {where} "
               f"({workers} process{'es' * (workers != 1)}; Ctrl-C stops)", err=True)
    from ..write.output import Terminated

    try:  # uvicorn stops on Ctrl-C and SIGTERM, finishing the requests under way: a server's normal end
        if workers == 1:
            from ..serve.app import create_app

            uvicorn.run(create_app(settings, practice), **options)
        else:  # each worker process imports the app by name and reads the settings from the environment
            os.environ[VARIABLE] = settings.to_environment()
            uvicorn.run("derive.serve.app:app_from_environment", factory=True, workers=workers, **options)
    except (Terminated, KeyboardInterrupt):  # the signal uvicorn raises again once it has stopped
        pass
    click.echo("stopped serving", err=True)


def _check_log(path: Path) -> None:
    """The log can be appended to (made if missing, readable by its owner only), or a one-line error."""
    import os

    try:
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
    except OSError as error:
        raise DeriveError(f"cannot append to the log '{path}': {error.strerror}") from None


def _check_address(host: str, port: int) -> None:
    """Something can listen on host:port now, or a one-line error (uvicorn would log it and exit 1)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise DeriveError(f"cannot listen on '{host}': {error.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            raise DeriveError(f"cannot listen on {host}:{port}: {error.strerror}") from None
