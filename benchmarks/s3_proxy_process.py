"""Run an :class:`s3_proxy.S3Proxy` in a process of its own; no pytest import.

ArcticDB's native calls hold the GIL while they wait for S3 (``get_library``
and ``list_libraries`` do), so a proxy thread in the same interpreter cannot
answer them and both stall until ArcticDB times out: the same deadlock that
rules out moto's in-process server. :class:`ProxyProcess` starts this file
as a child and drives it over stdin/stdout, one JSON object per line:

    child -> {"endpoint": "http://127.0.0.1:PORT"}    once, when it listens
    reset -> {"ok": true}                             request counts cleared
    counts -> {"counts": {...}, "key_counts": {...},  S3Proxy.counts / key_counts /
               "key_bytes": {...}, "cache": {...}}    key_bytes / cache_counts
    cache MODE -> {"cached": N}                       S3Proxy.set_cache(MODE)
    stop, or end of stdin -> the child stops the proxy and exits

End of stdin also covers a parent that died without saying goodbye.

Usage: python benchmarks/s3_proxy_process.py UPSTREAM LATENCY_S

Its neighbour ``s3_proxy`` is imported as a script's sibling: run as a file,
this directory is on ``sys.path``, and whoever imports it puts it there.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from s3_proxy import S3Proxy

from pytest_dataflight.loopback import stop_process
from pytest_dataflight.moto_server import _die_with_parent

START_TIMEOUT_S = 15.0


def _say(obj: object) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    upstream, latency_s = argv[0], float(argv[1])
    proxy = S3Proxy(upstream, latency_s=latency_s).start()
    try:
        _say({"endpoint": proxy.endpoint})
        for line in sys.stdin:
            command = line.strip()
            if command == "reset":
                proxy.reset_counts()
                _say({"ok": True})
            elif command == "counts":
                _say(
                    {
                        "counts": dict(proxy.counts),
                        "key_counts": dict(proxy.key_counts),
                        "key_bytes": dict(proxy.key_bytes),
                        "cache": dict(proxy.cache_counts),
                    }
                )
            elif command.startswith("cache "):
                try:
                    _say({"cached": proxy.set_cache(command.split(" ", 1)[1])})
                except ValueError as exc:
                    _say({"error": str(exc)})
            elif command == "stop":
                break
            else:
                _say({"error": f"unknown command {command!r}"})
    except KeyboardInterrupt:
        pass
    finally:
        proxy.stop()
    return 0


class ProxyProcess:
    """Start, talk to and stop one proxy child process, by its PID."""

    def __init__(self, upstream: str, *, latency_s: float = 0.0) -> None:
        self.upstream = upstream
        self.latency_s = latency_s
        self.process: subprocess.Popen[str] | None = None
        self.endpoint = ""

    def start(self) -> ProxyProcess:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), self.upstream, str(self.latency_s)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            preexec_fn=_die_with_parent,
        )
        try:
            self.endpoint = str(self._read(START_TIMEOUT_S)["endpoint"])
        except BaseException:
            self.stop()
            raise
        return self

    def _read(self, timeout: float = 30.0) -> dict[str, Any]:
        import selectors

        assert self.process is not None and self.process.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.process.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                raise RuntimeError(f"S3 proxy process gave no answer within {timeout:.0f} s")
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"S3 proxy process exited (code {self.process.poll()})")
        return dict(json.loads(line))

    def _ask(self, command: str) -> dict[str, Any]:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._read()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def reset_counts(self) -> None:
        self._ask("reset")

    def counts(self) -> dict[str, Any]:
        return self._ask("counts")

    def set_cache(self, mode: str) -> int:
        """Cache mode ``off``, ``fill`` or ``serve`` (see ``s3_proxy``); objects held."""
        answer = self._ask(f"cache {mode}")
        if "error" in answer:
            raise ValueError(answer["error"])
        return int(answer["cached"])

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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
