"""The practice page as a Starlette app: `create_app(settings)`, and `app_from_environment` for uvicorn's
worker processes (which import it by name and read the settings that `derive serve` put in the environment).

Routes: `GET /` the page (`?problem=KEY` picks the problem), `GET /static/practice.js|css` its script and
style (same origin: the page needs no network), `POST /api/preview` (`{"text": LaTeX}` -> `{"mathml": ...}`
or `{"error": one line}`) and `POST /api/check` (`{"problem", "gradient", "answer"}` -> the verdict to show).

An answer is decided as `derive verify` decides it, never in this process: `derive.grade.deciding.decide`
forks a child for it (the gradient was derived here once, at start, and the child inherits it), caps the
child's address space and kills it at the time limit; a timeout or a crash is "undecided". At most
`DECIDING_AT_ONCE` answers are decided at once per process and `WAITING_AT_MOST` wait; beyond that a check
gets 503 and a Retry-After. Every body is bounded (`limits.BodyLimit`, 413) and every client rate-limited
(`limits.RateLimit`, 429 with Retry-After). The correct gradient is sent only for a problem whose rubric says
`show_answer: true`, and only after a check that was not correct. Answers are written down only to the
`--log` file, one JSON line per check; nothing else about a request is kept.
"""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timezone

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..core.errors import DeriveError
from ..read.parse import MAX_LENGTH as MAX_ANSWER  # characters: the answer reader's own limit
from .config import Settings
from .limits import BodyLimit, RateLimit
from .mathml import preview
from .problems import Practice, load_practice

DECIDING_AT_ONCE = 2  # answers decided at once by one server process (each in a child of its own)
WAITING_AT_MOST = 16  # checks waiting for one of them; more get 503
PREVIEWS_PER_MINUTE, PREVIEW_BURST = 240.0, 20  # a preview is asked for as the student types (debounced)
CHECK_BURST = 5
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                                 b"img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'self'; "
                                 b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
STATIC = {"practice.js": "text/javascript; charset=utf-8", "practice.css": "text/css; charset=utf-8"}


def app_from_environment() -> Starlette:
    """The app for a uvicorn worker process: settings from `DERIVE_SERVE_SETTINGS`, problems read here."""
    return create_app(Settings.from_environment())


def create_app(settings: Settings, practice: dict[str, Practice] | None = None) -> Starlette:
    """The practice page for `settings` (`practice`: the problems, if already read from its files)."""
    from ..grade.deciding import decide
    from ..write.resources import resource_dir

    problems = practice if practice is not None else load_practice(settings.problems, settings.trust_problem)
    for item in problems.values():  # each gradient derived now, once: the deciding children inherit it
        for wrt in item.gradients:
            decide(item.text, wrt, "0", settings.seed, settings.time_limit, settings.memory_limit << 20)
    static = {name: (resource_dir("templates") / name).read_bytes() for name in STATIC}
    state = _State(settings, problems, _AnswerLog(settings.log) if settings.log else None)

    async def page(request: Request):
        key = request.query_params.get("problem") or next(iter(problems), "")
        if key not in problems:
            return _error(404, f"no problem '{_shown(key)}' here (known: {', '.join(problems)})")
        return HTMLResponse(_page_html(problems, key, settings))

    async def static_file(request: Request):
        name = request.path_params["name"]
        if name not in static:
            return _error(404, f"no file '{_shown(name)}' here")
        return Response(static[name], media_type=STATIC[name])

    routes = [Route("/", page), Route("/static/{name}", static_file),
              Route("/api/preview", state.preview, methods=["POST"]),
              Route("/api/check", state.check, methods=["POST"])]
    app = Starlette(routes=routes)
    app.add_middleware(_Headers)
    app.add_middleware(BodyLimit)
    app.state.practice = state
    return app


class _State:
    """What the routes share in one server process: the problems, the buckets, the slots for deciding."""

    def __init__(self, settings: Settings, problems: dict, log):
        import anyio

        self.settings, self.problems, self.log = settings, problems, log
        self.checks = RateLimit(settings.checks_per_minute, CHECK_BURST)
        self.previews = RateLimit(PREVIEWS_PER_MINUTE, PREVIEW_BURST)
        self.deciding = anyio.CapacityLimiter(DECIDING_AT_ONCE)
        self.previewing = anyio.CapacityLimiter(DECIDING_AT_ONCE)
        self.waiting = 0

    async def preview(self, request: Request):
        limited = _limited(self.previews, request)
        if limited is not None:
            return limited
        data = await _json(request, {"text": str})
        if isinstance(data, Response):
            return data
        text = data["text"]
        if len(text) > MAX_ANSWER:
            return JSONResponse({"error": _too_long(text)})
        if not text.strip():
            return JSONResponse({"mathml": ""})
        try:
            return JSONResponse({"mathml": await self._preview(text)})
        except DeriveError as error:
            return JSONResponse({"error": error.message})

    async def _preview(self, text: str, display: bool = True) -> str:
        from anyio import to_thread

        return await to_thread.run_sync(preview, text, display, limiter=self.previewing)

    async def check(self, request: Request):
        limited = _limited(self.checks, request)
        if limited is not None:
            return limited
        data = await _json(request, {"problem": str, "gradient": str, "answer": str})
        if isinstance(data, Response):
            return data
        item = self.problems.get(data["problem"])
        if item is None:
            return _error(404, f"no problem '{_shown(data['problem'])}' here (known: {', '.join(self.problems)})")
        wrt = data["gradient"]
        if wrt not in item.gradients:
            return _error(404, f"the problem '{item.key}' asks for no gradient with respect to '{_shown(wrt)}' "
                               f"(it asks for {', '.join(item.gradients)})")
        answer = data["answer"]
        if len(answer) > MAX_ANSWER:  # refused here, before a process is forked for it
            verdict = {"outcome": "invalid", "reason": _too_long(answer), "read_as": "", "diagnosis": None}
        else:
            if self.waiting >= WAITING_AT_MOST:
                return _error(503, "too many answers are being checked; try again in a few seconds",
                              {"Retry-After": "5"})
            verdict = await self._decide(item, wrt, answer)
        if self.log is not None:
            self.log.write(item.key, wrt, answer, verdict)
        return JSONResponse(await self._shown(item, wrt, verdict))

    async def _decide(self, item: Practice, wrt: str, answer: str) -> dict:
        from anyio import to_thread

        from ..grade.deciding import decide

        s = self.settings
        self.waiting += 1
        try:
            return await to_thread.run_sync(decide, item.text, wrt, answer, s.seed, s.time_limit,
                                            s.memory_limit << 20, limiter=self.deciding)
        finally:
            self.waiting -= 1

    async def _shown(self, item: Practice, wrt: str, verdict: dict) -> dict:
        """What the page shows of a verdict: its line ("correct", "incorrect: sign", "undecided: why", or the
        reader's error), the diagnosis, what the answer was read as; the gradient only if the problem allows."""
        outcome, reason = verdict["outcome"], verdict.get("reason") or ""
        kind = (verdict.get("diagnosis") or {}).get("kind")
        line = {"correct": "correct",
                "incorrect": "incorrect" + (f": {kind.replace('_', ' ')}" if kind else ""),
                "undecided": f"undecided: {reason}"}.get(outcome, reason)
        shown = {"outcome": outcome, "line": line, "diagnosis": (verdict.get("diagnosis") or {}).get("message"),
                 "reason": reason if outcome == "incorrect" else ""}
        if verdict.get("read_as") and outcome in ("correct", "incorrect"):
            try:
                shown["read_as"] = await self._preview(verdict["read_as"], display=False)
            except DeriveError:
                pass
        if outcome != "correct" and wrt in item.answers:
            shown["answer"] = item.answers[wrt]
        return shown


class _AnswerLog:
    """`--log FILE`: one JSON line per check (time, problem, gradient, answer, verdict), appended with one
    write, so that several server processes can share the file."""

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def write(self, problem: str, wrt: str, answer: str, verdict: dict) -> None:
        kind = (verdict.get("diagnosis") or {}).get("kind")
        line = json.dumps({"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "problem": problem,
                           "gradient": wrt, "answer": answer, "verdict": verdict["outcome"], "diagnosis": kind},
                          ensure_ascii=False)
        os.write(self.fd, (line + "\n").encode("utf-8"))


class _Headers:
    """ASGI middleware: the page's security headers on every response (scripts and styles from this origin
    only, no requests elsewhere, no framing, no caching)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, with_headers)


def _limited(bucket: RateLimit, request: Request) -> Response | None:
    wait = bucket.wait(request.client.host if request.client else "unknown")
    if wait <= 0:
        return None
    seconds = max(1, math.ceil(wait)) if math.isfinite(wait) else 60
    return _error(429, f"too many requests; try again in {seconds} s", {"Retry-After": str(seconds)})


async def _json(request: Request, fields: dict):
    """The request's JSON object with `fields` (name: type), or the 400 response saying what is wrong."""
    try:
        data = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return _error(400, "the request is not JSON")
    if not isinstance(data, dict):
        return _error(400, f"the request is a JSON object with {', '.join(fields)}")
    for name, kind in fields.items():
        if not isinstance(data.get(name), kind):
            return _error(400, f"the request's '{name}' must be text")
    return data


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _shown(text: str) -> str:
    """A client's text quoted back in one short line."""
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _too_long(text: str) -> str:
    return f"the answer is {len(text)} characters long; the limit is {MAX_ANSWER}"


def _page_html(problems: dict, key: str, settings: Settings) -> str:
    from .page import render_page

    return render_page(problems, key, settings)

