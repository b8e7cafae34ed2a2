"""Shared helpers of the plugin-core self-tests (issue 2): environment, processes, stores.

Plain functions and constants that test modules import; the fixtures built on
them (``clean_env``) live in ``conftest.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

RUN_DATE = "2026-04-18"
NO_CACHE = ("-p", "no:cacheprovider")
MOCK_ARGS = (*NO_CACHE, "--run-date", RUN_DATE, "--target", "mock")
LIVE_ARGS = (*NO_CACHE, "--run-date", RUN_DATE, "--target", "live")

# Settings that could leak in from the developer's shell (or a CI job) and
# change what a nested pytest run resolves to.
_LEAKY_NAMES = (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SSM",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "PYTEST_ADDOPTS",
)


def scrub_environment(monkeypatch: pytest.MonkeyPatch, scratch: Path) -> None:
    """No DATAFLIGHT_*, *_API_URL or AWS settings from outside; never instance metadata.

    ``scratch`` is a directory of the test's own: the AWS config and credentials
    files are pointed at names that do not exist in it.
    """
    for name in list(os.environ):
        if name.startswith("DATAFLIGHT_") or name.endswith("_API_URL") or name in _LEAKY_NAMES:
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(scratch / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(scratch / "no-aws-credentials"))


def live_env(monkeypatch: pytest.MonkeyPatch, endpoint: str, bucket: str, **extra: str) -> None:
    """The environment a pipeline step would give ``--target live``, pointed at ``endpoint``."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "live-test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "live-test-secret")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("DATAFLIGHT_BUCKET", bucket)
    for name, value in extra.items():
        monkeypatch.setenv(name, value)


def stderr_problems(result: pytest.RunResult) -> list[str]:
    """The non-empty lines a run wrote to stderr."""
    return [line for line in result.stderr.lines if line.strip()]


def assert_no_traceback(result: pytest.RunResult) -> None:
    text = result.stdout.str() + "\n" + result.stderr.str()
    assert "Traceback" not in text, text
    assert "INTERNALERROR" not in text, text
    # pytest's long tracebacks mark the failing source line with "E   ".
    assert not [line for line in result.stdout.lines if line.startswith("E   ")], text


# --- processes -------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of ``pid`` from /proc, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def _is_moto(pid: int) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(os.path.basename(arg) == b"moto_server" for arg in argv)


def moto_pids(parent: int | None = None) -> set[int]:
    """Running (not zombie) ``moto_server`` processes, children of ``parent`` if given."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        stat = _proc_stat(pid)
        if stat is None or stat[0] == "Z" or not _is_moto(pid):
            continue
        if parent is None or stat[1] == parent:
            found.add(pid)
    return found


def moto_alive(pid: int) -> bool:
    stat = _proc_stat(pid)
    return stat is not None and stat[0] != "Z" and _is_moto(pid)


# The module ``moto_record`` of a nested suite: records the moto_server processes
# of the process that owns the mock world (this one; the controller under xdist)
# in $MOTO_PIDS_FILE.
RECORD_MOTO_PIDS = r"""
import json
import os
from pathlib import Path


def moto_children(parent):
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and any(os.path.basename(a) == b"moto_server" for a in argv):
            found.append(int(entry.name))
    return found


def record_moto_pids():
    pids = moto_children(os.getpid()) + moto_children(os.getppid())
    Path(os.environ["MOTO_PIDS_FILE"]).write_text(json.dumps(sorted(set(pids))))
"""


def recorded_pids(path: Path) -> list[int]:
    return [int(pid) for pid in json.loads(path.read_text())]


# --- network -------------------------------------------------------------


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def silent_listener() -> Iterator[str]:
    """A loopback TCP server that accepts every connection and never answers.

    Yields its ``http://127.0.0.1:PORT`` endpoint; closes everything on exit.
    """
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    server.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, name="silent-listener", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        server.close()


# --- a live store of our own ------------------------------------------------


@dataclass
class LiveStore:
    """A moto_server we started, posing as the pipeline's real S3 (and SSM)."""

    endpoint: str
    startup_s: float

    def client(self, service: str) -> Any:
        import boto3

        return boto3.session.Session(
            aws_access_key_id="live-test-key", aws_secret_access_key="live-test-secret"
        ).client(service, endpoint_url=self.endpoint, region_name="us-east-1")

    def arctic_uri(self, bucket: str, path_prefix: str = "arcticdb") -> str:
        host, port = self.endpoint.removeprefix("http://").rsplit(":", 1)
        return (
            f"s3://{host}:{bucket}?port={port}&path_prefix={path_prefix}"
            "&access=live-test-key&secret=live-test-secret&region=us-east-1"
        )

    def create_bucket(self, bucket: str, objects: Mapping[str, Any] | None = None) -> None:
        s3 = self.client("s3")
        s3.create_bucket(Bucket=bucket)
        for key, body in (objects or {}).items():
            s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(body).encode())

    def write_symbol(
        self, bucket: str, library: str, symbol: str, closes: Mapping[str, float], **uri: str
    ) -> None:
        import arcticdb
        import pandas as pd

        frame = pd.DataFrame(
            {"Close": list(closes.values())}, index=pd.DatetimeIndex(list(closes.keys()))
        )
        ac = arcticdb.Arctic(self.arctic_uri(bucket, **uri))
        ac.get_library(library, create_if_missing=True).write(symbol, frame)


@contextlib.contextmanager
def live_store() -> Iterator[LiveStore]:
    """A moto_server subprocess of our own, stopped by PID on the way out."""
    from pytest_dataflight.mock.moto_server import MotoServer

    server = MotoServer()
    try:
        server.start()
        assert server.startup_s is not None
        print(f"moto_server start-up: {server.startup_s:.2f} s")
        yield LiveStore(server.endpoint, server.startup_s)
    finally:
        server.stop()


def unique_bucket(request: pytest.FixtureRequest) -> str:
    """A bucket name of this test alone (tests share a module's moto server)."""
    digest = abs(hash(request.node.nodeid)) % 10**10
    return f"dataflight-t{digest}-{time.monotonic_ns() % 10**6}"
