"""A ``moto_server`` subprocess on a free loopback port; no pytest import.

A subprocess, never moto's in-process ``ThreadedMotoServer``: ArcticDB's
native S3 client blocks the GIL-holding thread that would have to answer it,
and the two deadlock.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .loopback import die_with_parent, stop_process

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "dataflight-mock-key",
    "AWS_SECRET_ACCESS_KEY": "dataflight-mock-secret",
    "AWS_SESSION_TOKEN": "",
    "AWS_EC2_METADATA_DISABLED": "true",
}


class MotoServerError(RuntimeError):
    """moto_server could not be started."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _moto_executable() -> str:
    # Prefer the one next to this interpreter: a venv's moto, not a stray one on PATH.
    here = Path(sys.executable).parent / "moto_server"
    if here.exists():
        return str(here)
    found = shutil.which("moto_server")
    if found:
        return found
    raise MotoServerError(
        "moto_server was not found next to this Python or on PATH: "
        "install the plugin with its dependencies (pip install pytest-dataflight)"
    )


def iam_user_key(iam: Any, user: str, policy: Mapping[str, Any]) -> dict[str, str]:
    """Create IAM ``user`` with the inline ``policy`` and an access key; its boto3 credentials.

    ``iam`` must still be able to write IAM: call this before :meth:`MotoServer.enforce_iam`.
    """
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName=user, PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
    }


class MotoServer:
    """Start, wait for, and stop one ``moto_server`` process, by its PID."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_s: float | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = 30.0) -> MotoServer:
        started = time.monotonic()
        env = {**os.environ, **FAKE_CREDENTIALS}
        self.process = subprocess.Popen(
            [_moto_executable(), "-H", self.host, "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            # Own session: a terminal Ctrl-C reaches pytest, which then ends
            # moto itself, in order, instead of both dying at once.
            preexec_fn=die_with_parent,
        )
        deadline = started + timeout
        while True:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise MotoServerError(f"moto_server exited with code {code} while starting")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise MotoServerError(
                        f"moto_server did not answer on {self.endpoint} within {timeout:.0f} s"
                    ) from None
                time.sleep(0.05)
        self.startup_s = time.monotonic() - started
        return self

    def enforce_iam(self) -> None:
        """From the next request on, check every request's signature and IAM policy.

        moto's own switch, ``POST /moto-api/reset-auth`` with the number of requests
        still let through unchecked (ArcticDB's storage fixtures use it so). Once on,
        only IAM access keys are accepted: FAKE_CREDENTIALS get InvalidAccessKeyId.
        """
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/reset-auth",
            data=b"0",
            method="POST",
            # A form content type (urllib's default) would leave moto an empty body.
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            answer.read()

    def stop(self, timeout: float = 5.0) -> None:
        process, self.process = self.process, None
        if process is not None:
            # SIGKILL, not SIGTERM: moto keeps its whole state in memory, so there is
            # nothing to flush, and its orderly exit (interpreter teardown, joining the
            # threads of clients' keep-alive connections) took 0.2 to 0.5 s at every
            # end of a mock run.
            stop_process(process, timeout, ask=process.kill)

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
