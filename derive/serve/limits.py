"""The practice page's bounds on what a client may send: `BodyLimit` (an ASGI middleware that answers 413 to a
request body over `MAX_BODY` bytes, however it is sent) and `RateLimit` (a token bucket per client: a burst,
then a steady rate; the wait is what a 429's Retry-After says).

Each server process keeps its own buckets (with `--workers 2` a client may get up to twice the rate), and
at most `MAX_CLIENTS` of them: the least recently seen client is forgotten first, so many addresses cannot
fill the memory. What does not live here: the limits on deciding an answer (time, memory: `derive.grade`).
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict

MAX_BODY = 16 * 1024  # bytes of one request body: an answer at the reader's limit (4,000 characters) fits
MAX_CLIENTS = 10_000


class RateLimit:
    """`per_minute` requests per client on average, `burst` of them at once."""

    def __init__(self, per_minute: float, burst: int, clock=time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = burst
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client: (tokens, when)

    def wait(self, client: str) -> float:
        """0 and one request taken from `client`'s bucket, or the seconds until the next one is allowed."""
        now = self.clock()
        tokens, then = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        waiting = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            waiting = (1.0 - tokens) / self.rate if self.rate > 0 else math.inf
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
        return waiting


class BodyLimit:
    """ASGI middleware: a request whose body (declared or sent) is over `limit` bytes gets 413 and one line;
    the body of any other request is read here and handed on whole."""

    def __init__(self, app, limit: int = MAX_BODY):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._too_large(send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await self._too_large(send)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send) -> None:
        text = json.dumps({"error": f"the request is larger than the limit of {self.limit // 1024} KiB"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(text)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": text})
