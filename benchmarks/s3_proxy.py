"""A loopback HTTP proxy in front of an S3 endpoint, for benchmarks; no pytest import.

It exists for what moto cannot do by itself: add network latency (a store
that is not on the same machine) and count the requests a method makes, by
ArcticDB key type. (403 faults come from moto's own IAM, see
``pytest_dataflight.targets``.)
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pytest_dataflight.loopback import ThreadedHTTPServer

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}

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

    def start(self) -> S3Proxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the body waits
            # for the client's delayed ACK, about 40 ms per request.
            disable_nagle_algorithm = True

            def _forward(self) -> None:
                method = self.command
                with proxy._lock:
                    proxy.counts[method] += 1
                    proxy.key_counts[f"{method} {key_type(self.path)}"] += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if proxy.latency_s:
                    time.sleep(proxy.latency_s)
                conn = http.client.HTTPConnection(*proxy._upstream, timeout=60)
                try:
                    headers = {
                        k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP
                    }
                    conn.request(method, self.path, body=body, headers=headers)
                    answer = conn.getresponse()
                    payload = answer.read()
                    out = {k: v for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP}
                    self._send(answer.status, out, payload)
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

        self._server = ThreadedHTTPServer(Handler, "dataflight-s3-proxy", self.host)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
