"""A loopback proxy in front of moto that makes the store misbehave; no pytest import.

It forwards S3 and SSM requests to ``upstream`` and injects the faults a
real store shows (issue 9): throttling (S3's ``503 SlowDown`` with its XML
error body; SSM's ``400 ThrottlingException``), server errors (``500``),
answers about the data (``404 NoSuchKey``, ``403 AccessDenied``), and a
store that stops answering after N requests (the connection is closed with
no answer, as a dead load balancer does).

It runs as a process of its own (``python tests/store_faults.py UPSTREAM``):
ArcticDB's native calls hold the GIL while they wait for S3, so a proxy
thread in the test's own interpreter could not answer them (see
``benchmarks/s3_proxy_process.py``, which this follows). The parent drives
it over stdin/stdout, one JSON object per line:

    child -> {"endpoint": "http://127.0.0.1:PORT"}     once, when it listens
    {"fault": {...}} or {"fault": null} -> {"ok": true}  set or clear the fault
    "counts" -> {"requests": N, "faulted": N, "matched": N}
    "stop", or end of stdin -> the child stops and exits
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pytest_dataflight.testing.processes import LineProcess

START_TIMEOUT_S = 15.0
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}

# kind -> (S3 status, S3 code, SSM status, SSM code, message): what AWS itself answers.
KINDS: dict[str, tuple[int, str, int, str, str]] = {
    "throttle": (503, "SlowDown", 400, "ThrottlingException", "Please reduce your request rate."),
    "server_error": (500, "InternalError", 500, "InternalServerError", "Internal error."),
    "not_found": (404, "NoSuchKey", 400, "ParameterNotFound", "The specified key does not exist."),
    "denied": (403, "AccessDenied", 400, "AccessDeniedException", "Access Denied"),
    "stop": (0, "", 0, "", ""),  # no answer at all: the connection is closed
}


@dataclass(frozen=True)
class Fault:
    """What the proxy does to the requests whose label contains ``match``.

    A request's label is its decoded path for S3 (``/bucket/key?query``) and
    ``ssm:<X-Amz-Target>`` for SSM. The first ``after`` matching requests
    pass; then ``fraction`` of the matching ones (spread evenly) get ``kind``.
    ``stop`` is different: once triggered the store is dead, for every request.
    """

    kind: str
    match: str = ""
    after: int = 0
    fraction: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {sorted(KINDS)}")
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"fraction must be within 0..1, got {self.fraction}")


class FaultState:
    """The current fault and the counts, shared by the handler threads."""

    def __init__(self) -> None:
        self.fault: Fault | None = None
        self.requests = self.matched = self.faulted = 0
        self.dead = False
        self._lock = threading.Lock()

    def set(self, fault: Fault | None) -> None:
        with self._lock:
            self.fault = fault
            self.requests = self.matched = self.faulted = 0
            self.dead = False

    def decide(self, label: str) -> str | None:
        """The fault kind for the request labelled ``label``, or None to forward it."""
        with self._lock:
            self.requests += 1
            fault = self.fault
            if self.dead:
                self.faulted += 1
                return "stop"
            if fault is None or fault.match not in label:
                return None
            self.matched += 1
            n = self.matched - fault.after  # 1-based among the requests past ``after``
            # Evenly spread: the n-th request is hit when floor(n*f) steps up.
            if n < 1 or int(n * fault.fraction) == int((n - 1) * fault.fraction):
                return None
            self.faulted += 1
            self.dead = fault.kind == "stop"
            return fault.kind

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"requests": self.requests, "matched": self.matched, "faulted": self.faulted}


def error_answer(kind: str, ssm: bool) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of the error AWS gives for ``kind``, S3's XML or SSM's JSON."""
    s3_status, s3_code, ssm_status, ssm_code, message = KINDS[kind]
    if ssm:
        body = json.dumps({"__type": ssm_code, "message": message}).encode()
        return ssm_status, {"Content-Type": "application/x-amz-json-1.1"}, body
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{s3_code}</Code><Message>{message}</Message>"
        "<RequestId>DATAFLIGHTFAULT</RequestId><HostId>store-faults</HostId></Error>"
    )
    return s3_status, {"Content-Type": "application/xml"}, xml.encode()


def _handler(state: FaultState, upstream: tuple[str, int]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # see benchmarks/s3_proxy.py: 40 ms per request

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            target = self.headers.get("X-Amz-Target")
            kind = state.decide(f"ssm:{target}" if target else unquote(self.path))
            if kind == "stop":
                self.close_connection = True  # no status line, no body: nobody answered
                return
            if kind is not None:
                self._send(*error_answer(kind, ssm=target is not None))
                return
            self._forward(body)

        def _forward(self, body: bytes | None) -> None:
            conn = http.client.HTTPConnection(*upstream, timeout=60)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                conn.request(self.command, self.path, body=body, headers=headers)
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

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


def _say(obj: object) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _command(state: FaultState, line: str) -> bool:
    """Carry out one command line; False when the child should stop."""
    line = line.strip()
    if line == "stop":
        return False
    if line == "counts":
        _say(state.counts())
        return True
    try:
        spec = json.loads(line)["fault"]
        state.set(None if spec is None else Fault(**spec))
        _say({"ok": True})
    except (ValueError, KeyError, TypeError) as exc:
        _say({"error": f"{type(exc).__name__}: {exc}"})
    return True


def main(argv: list[str]) -> int:
    from pytest_dataflight.mock.loopback import ThreadedHTTPServer

    parts = urlsplit(argv[0])
    state = FaultState()
    upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
    server = ThreadedHTTPServer(_handler(state, upstream), "store-faults", "127.0.0.1")
    try:
        _say({"endpoint": f"http://127.0.0.1:{server.port}"})
        for line in sys.stdin:
            if not _command(state, line):
                break
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


class StoreFaults(LineProcess):
    """Start, steer and stop one fault proxy child process, by its PID."""

    def __init__(self, upstream: str) -> None:
        script = str(Path(__file__).resolve())
        super().__init__([sys.executable, script, upstream], "store fault proxy", START_TIMEOUT_S)
        self.upstream = upstream

    def start(self) -> StoreFaults:
        super().start()
        return self

    def inject(self, fault: Fault | None) -> None:
        """From now on, ``fault`` (None: forward everything); the counts start afresh."""
        self.ask(json.dumps({"fault": None if fault is None else asdict(fault)}))

    def counts(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.ask("counts").items()}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
