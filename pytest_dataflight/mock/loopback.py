"""Small shared pieces for the loopback servers and child processes; no pytest import."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    # socketserver's listen backlog is 5: a client opening 16 connections at once
    # (ArcticDB's IO threads) loses SYNs and waits out a 1 s retransmit.
    request_queue_size = 128
    daemon_threads = True


class ThreadedHTTPServer:
    """A ``ThreadingHTTPServer`` on a free loopback port, served from a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], name: str, host: str) -> None:
        self.server: ThreadingHTTPServer | None = _Server((host, 0), handler)
        # A short poll: shutdown() waits for it, at every end of a mock run.
        self._thread: threading.Thread | None = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=name,
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        assert self.server is not None, "server stopped"
        return int(self.server.server_address[1])

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def stop_process(
    process: subprocess.Popen[bytes] | subprocess.Popen[str],
    timeout: float = 5.0,
    ask: Callable[[], None] | None = None,
) -> None:
    """End ``process`` by its PID: ``ask`` it (default SIGTERM), then SIGKILL after ``timeout``."""
    if process.poll() is not None:
        return
    if ask is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
    else:
        with contextlib.suppress(OSError, ValueError):
            ask()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    """A session of the child's own; on Linux, if pytest is killed outright
    (SIGKILL), the kernel ends the child too (PR_SET_PDEATHSIG)."""
    os.setsid()
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
