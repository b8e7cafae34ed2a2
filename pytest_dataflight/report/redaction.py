"""Secrets masked in everything pytest shows or writes: terminal, JUnit XML, logs, reports.

pytest renders a failure from ``report.longrepr`` (assertion introspection,
tracebacks, ``-l`` locals, the short summary) and ``report.sections``
(captured stdout, stderr and logs), and junitxml and pytest-xdist read the
same objects. Masking them in place, before anyone else sees the report,
covers every one of those outputs at once. The masked copy is made through
pytest's own report (de)serialisation hooks, the path pytest-xdist sends
reports through, so the structure (crash line, traceback entries, locals)
survives and only the secret text changes.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest

from ..run.state import state_key
from ..stores.masking import Masker, map_strings

Mask = Callable[[str], str]

_fallback_key = pytest.StashKey[Masker]()
# Report attributes that can carry text; the rest (nodeid, outcome, ...) never hold secrets.
_MASKED_ATTRS = ("longrepr", "sections", "user_properties", "wasxfail")


def masker_for(config: pytest.Config) -> Masker:
    """The run's masker; a stand-in when settings never resolved (usage errors)."""
    state = config.stash.get(state_key, None)
    if state is not None:
        return state.masker
    if _fallback_key not in config.stash:
        config.stash[_fallback_key] = Masker()
        declare_env_secrets(config)
    return config.stash[_fallback_key]


def active_mask(config: pytest.Config) -> Mask | None:
    """The mask to apply to pytest's output, or None outside data runs.

    The plugin is loaded in every pytest run of an environment that has it
    installed; another project's ``assert url == "...?api_key=abc"`` must keep
    its diff. Data runs (the one decision, ``RunState.data_run``) and runs
    that know a secret are masked.
    """
    state = config.stash.get(state_key, None)
    if state is None:
        return masker_for(config).mask
    if state.data_run or state.masker.values:
        return state.masker.mask
    return None


def declare_env_secrets(config: pytest.Config) -> None:
    """Register the values of the environment variables the suite declares secret."""
    masker = masker_for(config)
    try:
        results = config.pluginmanager.hook.pytest_dataflight_secret_names()
    except Exception:  # a broken conftest hook must not stop masking what is known
        return
    for names in results:
        for name in names or ():
            masker.add(os.environ.get(str(name)))


def mask_report(
    config: pytest.Config, report: pytest.TestReport | pytest.CollectReport, mask: Mask
) -> bool:
    """Mask ``report``'s text in place; True when anything was masked."""
    if (
        report.longrepr is None
        and not report.sections
        and not getattr(report, "user_properties", None)
        and not getattr(report, "wasxfail", None)
    ):
        return False
    data = config.hook.pytest_report_to_serializable(config=config, report=report)
    if not data:
        return False
    masked = map_strings(data, mask)
    if masked == data:
        return False
    clean: Any = None
    try:
        clean = config.hook.pytest_report_from_serializable(config=config, data=masked)
    except Exception:  # an unusual longrepr: fall back to masked plain text below
        clean = None
    if clean is None:
        if report.longrepr is not None:
            report.longrepr = mask(str(report.longrepr))
        report.sections = [(mask(k), mask(v)) for k, v in report.sections]
        if isinstance(report, pytest.TestReport):
            report.user_properties = map_strings(report.user_properties, mask)
        return True
    for name in _MASKED_ATTRS:
        if hasattr(clean, name):
            setattr(report, name, getattr(clean, name))
    return True


class Redactor:
    """Registered on every process (controller and xdist workers): a secret
    resolved on a worker is known only there, so the worker masks before it
    sends a report to the controller, and the controller masks again for what
    it knows itself."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._previous_factory: Callable[..., logging.LogRecord] | None = None
        self._factory: Callable[..., logging.LogRecord] | None = None
        self._streams: tuple[Any, Any] | None = None

    # Log records: live logging (log_cli), --log-file and caplog format records
    # outside any report, so the message is masked where the record is made.
    def start(self) -> None:  # undone by stop(), from unregister()
        previous = logging.getLogRecordFactory()
        config = self.config

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                mask = active_mask(config)
                if mask is not None:
                    _mask_record(record, mask)
            except Exception:  # logging must never fail because of masking
                pass
            return record

        self._previous_factory, self._factory = previous, factory
        logging.setLogRecordFactory(factory)
        if self.config.getoption("capture", None) == "no":
            # -s: what a test prints goes straight to the terminal, past every report.
            self._streams = (sys.stdout, sys.stderr)
            sys.stdout = MaskingStream(sys.stdout, config)  # type: ignore[assignment]
            sys.stderr = MaskingStream(sys.stderr, config)  # type: ignore[assignment]

    # pytest prints an internal error's traceback from str(excrepr), in the
    # terminal's own hook and in its fallback to stderr: mask what str() renders.
    @pytest.hookimpl(tryfirst=True)
    def pytest_internalerror(self, excrepr: Any, excinfo: Any) -> None:
        mask = active_mask(self.config) or masker_for(self.config).mask
        text = str(excrepr)
        masked = mask(text)
        if masked != text:
            excrepr.toterminal = lambda tw: [tw.line(line) for line in masked.split("\n")]

    # The warnings summary formats the warning's message when it is recorded.
    @pytest.hookimpl(tryfirst=True)
    def pytest_warning_recorded(self, warning_message: Any, when: str, nodeid: str) -> None:
        mask = active_mask(self.config)
        if mask is None:
            return
        text = str(warning_message.message)
        masked = mask(text)
        if masked != text:
            warning_message.message = warning_message.category(masked)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # conftest.py files below the rootdir are loaded during collection.
        declare_env_secrets(self.config)

    @pytest.hookimpl(tryfirst=True)  # before the terminal, junitxml, xdist and our reporter
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        mask = active_mask(self.config)
        if mask is not None:
            mask_report(self.config, report, mask)

    @pytest.hookimpl(tryfirst=True)  # before the terminal and junitxml show collection errors
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        mask = active_mask(self.config)
        if mask is not None:
            mask_report(self.config, report, mask)

    def stop(self) -> None:
        if self._streams is not None:
            if isinstance(sys.stdout, MaskingStream):
                sys.stdout = self._streams[0]
            if isinstance(sys.stderr, MaskingStream):
                sys.stderr = self._streams[1]
            self._streams = None
        # Restore only if nobody replaced the factory after us (nested pytester runs).
        if self._factory is not None and logging.getLogRecordFactory() is self._factory:
            assert self._previous_factory is not None
            logging.setLogRecordFactory(self._previous_factory)
        self._factory = None


class MaskingStream:
    """A text stream that masks what is written to it (``-s`` output).

    A secret split across two ``write`` calls would pass; ``print`` writes
    each argument whole, which is how a check shows a value.
    """

    def __init__(self, stream: Any, config: pytest.Config) -> None:
        self._stream = stream
        self._config = config

    def write(self, text: str) -> int:
        mask = active_mask(self._config)
        self._stream.write(mask(text) if mask is not None and text else text)
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _mask_record(record: logging.LogRecord, mask: Mask) -> None:
    message = record.getMessage()
    masked = mask(message)
    if masked != message:
        record.msg, record.args = masked, ()
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        masked_text = mask(text)
        if masked_text != text:
            # Formatters use exc_text when set, instead of formatting exc_info again.
            record.exc_text = masked_text
    if record.stack_info:
        record.stack_info = mask(record.stack_info)


def register(config: pytest.Config) -> None:
    """Mask from here on: log records at once, reports as they are made.

    The initial conftests (a suite's, named on the command line) are loaded
    by now, so their secret names are known; later ones are declared at the
    end of collection.
    """
    redactor = Redactor(config)
    config.pluginmanager.register(redactor, "dataflight-redactor")
    redactor.start()
    declare_env_secrets(config)


def unregister(config: pytest.Config) -> None:
    redactor = config.pluginmanager.get_plugin("dataflight-redactor")
    if redactor is not None:
        redactor.stop()
        config.pluginmanager.unregister(redactor)
