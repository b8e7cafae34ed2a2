"""A loopback HTTP proxy in front of an S3 endpoint, for benchmarks; no pytest import.

It exists for what moto cannot do by itself: add network latency (a store
that is not on the same machine), count the requests a method makes and the
bytes it fetches, by ArcticDB key type, and take moto's CPU out of the
measured path: with the cache in ``serve`` mode, a GET of an object it has
seen is answered from memory (after the same added latency) instead of by
moto. (403 faults come from moto's own IAM, see ``pytest_dataflight.mock.target``.)

Cache modes: ``off`` (forward everything), ``fill`` (forward everything, keep
every 200 answer to a plain object GET: a warm-up pass), ``serve`` (answer
kept GETs from memory, forward and keep the others). A PUT, POST or DELETE
drops what was kept for its path; a POST with a query (multi-object delete)
drops everything.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pytest_dataflight.mock.loopback import ThreadedHTTPServer

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}

CACHE_MODES = ("off", "fill", "serve")
Answer = tuple[int, dict[str, str], bytes]  # status, headers, body

# ArcticDB's folder for data segments; the others include tindex (indexes),
# vref/ver (versions), sl (symbol list), lref (locks), cref (library config).
DATA_SEGMENT = "tdata"


def key_type(path: str) -> str:
    """The ArcticDB key type a request path addresses (``tdata``, ``tindex``, ``vref``, ...),
    ``list <type>`` for a listing under one, ``other`` for anything else."""
    parts = urlsplit(path)
    prefix = parse_qs(parts.query).get("prefix")
    names = [n for n in unquote(prefix[0] if prefix else parts.path).split("/") if n]
    # Encoded ArcticDB key names start with "*" ("*sTt*SYM*..."); a symbol may hold "/".
    first_key = next((i for i, n in enumerate(names) if n.startswith("*")), None)
    if first_key:
        folder = names[first_key - 1]
    elif prefix and names:
        folder = names[-1]
    else:
        return "other"
    return f"list {folder}" if prefix else folder


class S3Proxy:
    """Forward every request to ``upstream``; delay and count on the way."""

    def __init__(self, upstream: str, *, latency_s: float = 0.0, host: str = "127.0.0.1") -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.latency_s = latency_s
        self.host = host
        self.counts: Counter[str] = Counter()
        # "<METHOD> <key type>" -> requests, e.g. "GET tdata" (see key_type).
        self.key_counts: Counter[str] = Counter()
        # "<METHOD> <key type>" -> response body bytes sent to the client.
        self.key_bytes: Counter[str] = Counter()
        # "hit" / "miss": GETs answered from memory / forwarded, while serving.
        self.cache_counts: Counter[str] = Counter()
        self.cache_mode = "off"
        # path -> (status, headers, body) of a plain object GET.
        self._cache: dict[str, Answer] = {}
        self._lock = threading.Lock()
        self._server: ThreadedHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "proxy not started"
        return f"http://{self.host}:{self._server.port}"

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.key_counts.clear()
            self.key_bytes.clear()
            self.cache_counts.clear()

    def set_cache(self, mode: str) -> int:
        """Switch the cache to ``mode`` (``off`` empties it); objects it holds."""
        if mode not in CACHE_MODES:
            raise ValueError(f"cache mode must be one of {CACHE_MODES}, got {mode!r}")
        with self._lock:
            self.cache_mode = mode
            if mode == "off":
                self._cache.clear()
            return len(self._cache)

    def cached(self, method: str, path: str, headers: Any) -> Answer | None:
        """The kept answer to this request, when serving and it is a plain GET."""
        if method != "GET" or self.cache_mode != "serve" or "?" in path or "Range" in headers:
            return None
        with self._lock:
            found = self._cache.get(path)
            self.cache_counts["hit" if found else "miss"] += 1
        return found

    def remember(self, method: str, path: str, headers: Any, answer: Answer) -> None:
        """Keep a plain GET's 200 answer; forget what a write to ``path`` made stale."""
        with self._lock:
            if method == "GET":
                plain = "?" not in path and "Range" not in headers and answer[0] == 200
                if self.cache_mode != "off" and plain:
                    self._cache[path] = answer
            elif method in ("PUT", "POST", "DELETE"):
                if "?" in path and method == "POST":
                    self._cache.clear()  # DeleteObjects: keys are in the body
                else:
                    self._cache.pop(path.split("?", 1)[0], None)

    def start(self) -> S3Proxy:
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._server = ThreadedHTTPServer(handler, "dataflight-s3-proxy", self.host)
        return self

    def count(self, method: str, path: str) -> None:
        with self._lock:
            self.counts[method] += 1
            self.key_counts[f"{method} {key_type(path)}"] += 1

    def count_bytes(self, method: str, path: str, size: int) -> None:
        with self._lock:
            self.key_bytes[f"{method} {key_type(path)}"] += size

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


class _Handler(BaseHTTPRequestHandler):
    """One request: count, delay, answer from the cache or from upstream."""

    proxy: S3Proxy  # set on the subclass S3Proxy.start makes
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits
    # for the client's delayed ACK, about 40 ms per request.
    disable_nagle_algorithm = True

    def _forward(self) -> None:
        proxy, method = self.proxy, self.command
        proxy.count(method, self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if proxy.latency_s:
            time.sleep(proxy.latency_s)
        answer = proxy.cached(method, self.path, self.headers)
        if answer is None:
            answer = self._ask_upstream(method, body)
            proxy.remember(method, self.path, self.headers, answer)
        if method != "HEAD":
            proxy.count_bytes(method, self.path, len(answer[2]))
        self._send(*answer)

    def _ask_upstream(self, method: str, body: bytes | None) -> Answer:
        conn = http.client.HTTPConnection(*self.proxy._upstream, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            conn.request(method, self.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            out = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP}
            return response.status, out, payload
        finally:
            conn.close()

    def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() != "content-length":
                self.send_header(k, v)
        # HEAD keeps the upstream length (of the body it does not send).
        length = headers.get("Content-Length", headers.get("content-length"))
        if self.command != "HEAD" or length is None:
            length = str(len(payload))
        self.send_header("Content-Length", length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass
