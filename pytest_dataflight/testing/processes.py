"""Helper child processes for the plugin's own tests and benchmarks; no pytest import.

Test machinery, shipped for the benchmarks and tests of this repository (like
ArcticDB's ``storage_fixtures``): the runtime never imports ``testing/``.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from typing import Any

from ..mock.loopback import die_with_parent, stop_process


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
