"""Runs from this repository reach loopback only, unless ``--target live`` is given.

Every pytest run rooted here (``tests/``, ``datatests/``, each xdist worker, and
the nested runs the self-tests start in-process) gets, for the whole run:

- ``AWS_EC2_METADATA_DISABLED=true``: neither boto3 nor ArcticDB's SDK probes
  instance metadata (169.254.169.254), live runs included.
- Unless ``--target live`` is on the command line: no ``AWS_*`` setting of the
  developer's shell (an endpoint, a profile, credentials, a config file that
  names either), and a guard that refuses a connect to anything but
  127.0.0.0/8 and ::1 before any packet is sent.

The guard is Python's ``socket.socket.connect``: it covers boto3, requests and
urllib3 in this process, but not subprocesses (moto_server; xdist workers load
this file themselves) nor native clients (ArcticDB's C++ SDK). Those get their
endpoints from the plugin's settings and see the scrubbed environment.

Not pytest-socket (``--allow-hosts=127.0.0.0/8,::1``): its guard lasts from one
test's setup to its teardown, so collection, session fixtures and the report
upload at session end go unguarded, and every in-process ``pytester`` run lifts
it for the rest of the outer test, because the nested session's own teardown
hook restores ``socket.socket.connect``.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_INTERNET = (socket.AF_INET, socket.AF_INET6)
_undo_key = pytest.StashKey[pytest.MonkeyPatch]()
_refusal_key = pytest.StashKey[str]()


class NonLoopbackConnectRefused(RuntimeError):
    """A connect outside loopback in a run without ``--target live``.

    Not an ``OSError`` on purpose: clients would take it for a network fault,
    retry, and report an unreachable endpoint instead of the reason.
    """


def is_loopback(host: object) -> bool:
    """True for 127.0.0.0/8, ::1 (also IPv4-mapped) and the name ``localhost``."""
    if host == "localhost":
        return True
    if not isinstance(host, str):
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False  # another host name: resolving it here would itself be traffic
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def _refuse_unless_loopback(sock: socket.socket, address: Any) -> None:
    if sock.family not in _INTERNET:
        return  # Unix sockets and the like stay on this machine
    host = address[0] if isinstance(address, tuple) and address else address
    if is_loopback(host):
        return
    # socket.create_connection closes the socket on OSError only.
    sock.close()
    raise NonLoopbackConnectRefused(
        f"refused a connect to {address!r}: runs from this repository reach 127.0.0.1 "
        "and ::1 only; pass --target live on the command line to reach real endpoints"
    )


def _loopback_only_connect(sock: socket.socket, address: Any) -> None:
    _refuse_unless_loopback(sock, address)
    return _real_connect(sock, address)


def _loopback_only_connect_ex(sock: socket.socket, address: Any) -> int:
    _refuse_unless_loopback(sock, address)
    return _real_connect_ex(sock, address)


def guard_installed() -> bool:
    """Whether this process refuses non-loopback connects right now."""
    return vars(socket.socket).get("connect") is _loopback_only_connect


def explicit_live(config: pytest.Config) -> bool:
    """``--target live`` on the command line; the environment and ini do not count."""
    target = config.getoption("--target", default=None)
    return isinstance(target, str) and target.strip().lower() == "live"


def _scrub_aws_environment(mp: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            mp.delenv(name)
    # The default profile of ~/.aws/config can name an endpoint or a credential process.
    mp.setenv("AWS_CONFIG_FILE", os.devnull)
    mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


# tryfirst: before any plugin's pytest_configure reads AWS_* or opens a
# connection (the dataflight plugin resolves its settings and starts the target there).
@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    live = explicit_live(config)
    if not live and os.environ.get("DATAFLIGHT_TARGET", "").strip().lower() == "live":
        # Refused at session start, not here: by then the plugin's reporter is
        # registered, so this usage error gets its report like any other.
        config.stash[_refusal_key] = (
            "DATAFLIGHT_TARGET=live is set, but runs from this repository reach real "
            "endpoints only with --target live on the command line: pass it for a live "
            "data run, or unset DATAFLIGHT_TARGET"
        )
    mp = pytest.MonkeyPatch()
    config.stash[_undo_key] = mp
    if not live:
        _scrub_aws_environment(mp)
        mp.setattr(socket.socket, "connect", _loopback_only_connect)
        mp.setattr(socket.socket, "connect_ex", _loopback_only_connect_ex)
    mp.setenv("AWS_EC2_METADATA_DISABLED", "true")


def pytest_sessionstart(session: pytest.Session) -> None:
    message = session.config.stash.get(_refusal_key, None)
    if message is not None:
        from pytest_dataflight import usage_error

        raise usage_error(session.config, message)


# trylast: plugins that changed the environment on top of ours undo first, so
# the original environment is the last thing restored.
@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    mp = config.stash.get(_undo_key, None)
    if mp is not None:
        mp.undo()
