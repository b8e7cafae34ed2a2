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

import json
import sys
from pathlib import Path
from typing import Any

from s3_proxy import S3Proxy

from pytest_dataflight.testing.processes import LineProcess

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


class ProxyProcess(LineProcess):
    """Start, talk to and stop one proxy child process, by its PID."""

    def __init__(self, upstream: str, *, latency_s: float = 0.0) -> None:
        script = str(Path(__file__).resolve())
        argv = [sys.executable, script, upstream, str(latency_s)]
        super().__init__(argv, "S3 proxy process", START_TIMEOUT_S)
        self.upstream = upstream
        self.latency_s = latency_s

    def start(self) -> ProxyProcess:
        super().start()
        return self

    def reset_counts(self) -> None:
        self.ask("reset")

    def counts(self) -> dict[str, Any]:
        return self.ask("counts")

    def set_cache(self, mode: str) -> int:
        """Cache mode ``off``, ``fill`` or ``serve`` (see ``s3_proxy``); objects held."""
        return int(self.ask(f"cache {mode}")["cached"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
