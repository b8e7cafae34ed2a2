"""A loopback HTTP stub standing in for external APIs; no pytest import.

Real HTTP over 127.0.0.1 so the contracts exercise the same client code,
timeouts and error handling as against the real hosts. Each API is mounted
under ``/<api name>``; the mock world declares what each path answers.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from .loopback import ThreadedHTTPServer

# A "hanging" route holds the connection at most this long, so a stub can
# never keep a test run alive by itself.
HANG_LIMIT_S = 60.0


@dataclass
class Route:
    status: int = 200
    body: Any = None
    hang: bool = False
    content_type: str = "application/json"
    # A blip: the first ``fail_first`` requests answer 503, later ones as declared.
    fail_first: int = 0

    def payload(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class HttpStub:
    """Serve declared routes; unknown paths answer 404 with a JSON error."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._routes: dict[tuple[str, str], Route] = {}
        self._release = threading.Event()
        self._server: ThreadedHTTPServer | None = None
        self.requests: list[str] = []

    @property
    def port(self) -> int:
        assert self._server is not None, "stub not started"
        return self._server.port

    def base_url(self, api: str) -> str:
        return f"http://{self.host}:{self.port}/{api}"

    def route(
        self,
        api: str,
        path: str,
        *,
        status: int = 200,
        body: Any = None,
        hang: bool = False,
        content_type: str = "application/json",
        fail_first: int = 0,
    ) -> None:
        """Declare what ``GET /<api>/<path>`` answers (query strings are ignored).

        ``content_type`` lets a fault answer as something other than the API (a
        captive portal's ``text/html`` login page, say); ``fail_first`` makes the
        first requests answer 503, as an API does in a blip that retries ride out.
        """
        route = Route(status, body, hang, content_type, fail_first)
        self._routes[(api, "/" + path.lstrip("/"))] = route

    def _lookup(self, raw_path: str) -> Route | None:
        path = urlsplit(raw_path).path
        api, _, rest = path.lstrip("/").partition("/")
        return self._routes.get((api, "/" + rest))

    def start(self) -> HttpStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                # Log the path only: query strings carry API keys.
                stub.requests.append(urlsplit(self.path).path)
                route = stub._lookup(self.path)
                if route is None:
                    route = Route(404, {"error": f"no stub route for {urlsplit(self.path).path}"})
                elif route.fail_first > 0:
                    route.fail_first -= 1  # one probe's attempts come one after another
                    route = Route(503, {"error": "Service Unavailable"})
                if route.hang:
                    stub._release.wait(HANG_LIMIT_S)
                    return
                payload = route.payload()
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_HEAD = do_GET  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # quiet: the terminal belongs to pytest

        self._server = ThreadedHTTPServer(Handler, "dataflight-http-stub", self.host)
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.stop()
            self._server = None
