"""Small shared pieces for the loopback servers and child processes; no pytest import."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


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


class LineProcess:
    """A helper child process spoken to in JSON lines over stdin/stdout, ended by its PID.

    The child prints ``{"endpoint": ...}`` first; after that each command line
    gets one JSON answer, and ``stop`` (or end of input) ends it. Used by the
    loopback proxies of the benchmarks and of the store-failure tests.
    """

    def __init__(self, argv: list[str], name: str, start_timeout_s: float = 30.0) -> None:
        self.argv = argv
        self.name = name
        self.start_timeout_s = start_timeout_s
        self.process: subprocess.Popen[str] | None = None
        self.endpoint = ""

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> LineProcess:
        self.process = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            preexec_fn=die_with_parent,
        )
        try:
            self.endpoint = str(self.read(self.start_timeout_s)["endpoint"])
        except BaseException:
            self.stop()
            raise
        return self

    def read(self, timeout: float = 30.0) -> dict[str, Any]:
        import selectors

        assert self.process is not None and self.process.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.process.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                raise RuntimeError(f"{self.name} gave no answer within {timeout:.0f} s")
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} exited (code {self.process.poll()})")
        return dict(json.loads(line))

    def ask(self, command: str) -> dict[str, Any]:
        """Send one command; its answer, or ValueError with the child's error."""
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        answer = self.read()
        if "error" in answer:
            raise ValueError(answer["error"])
        return answer

    def stop(self, timeout: float = 5.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return

        def say_stop() -> None:
            assert process.stdin is not None
            process.stdin.write("stop\n")
            process.stdin.close()

        stop_process(process, timeout, ask=say_stop)
        for stream in (process.stdin, process.stdout):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.close()
