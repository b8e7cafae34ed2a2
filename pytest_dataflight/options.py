"""The pytest side of settings: options registered from one table, read once.

Every option of the plugin, and any a suite declares with :func:`add_option`,
is a flag in the ``dataflight`` group, an ini key and an environment
variable, resolved CLI > env > ini > default by ``settings.raw_value``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from .run.settings import OPTIONS, OptionSpec, Settings, resolve_partial

GROUP = "dataflight"
GROUP_HELP = "data contracts (pytest-dataflight)"


def add_option(parser: pytest.Parser, spec: OptionSpec) -> None:
    """Register ``spec`` as a flag, an ini key and (in the help) its env variable.

    For a suite's own options too: its conftest's ``pytest_addoption`` calls
    this, and :func:`option_value` reads the value with our precedence.
    """
    group = parser.getgroup(GROUP, GROUP_HELP)
    help_text = f"{spec.help} Env: {spec.env}; ini: {spec.ini_name}."
    # No argparse type=: a bad value must reach our own validation, so the
    # report is still written for it.
    if spec.multiple:
        group.addoption(
            spec.flag,
            dest=spec.option_dest,
            action="append",
            default=[],
            metavar=spec.metavar,
            help=help_text,
        )
    else:
        group.addoption(
            spec.flag, dest=spec.option_dest, default=None, metavar=spec.metavar, help=help_text
        )
    parser.addini(spec.ini_name, spec.help, type="string", default=None)


def add_options(parser: pytest.Parser) -> None:
    for spec in OPTIONS:
        add_option(parser, spec)


def _cli(config: pytest.Config, spec: OptionSpec, namespace: Any = None) -> Any:
    if namespace is not None:  # before pytest has parsed its options (see plugin.py)
        return getattr(namespace, spec.option_dest, None)
    return config.getoption(spec.option_dest, None)


def _ini(config: pytest.Config, spec: OptionSpec) -> Any:
    try:
        return config.getini(spec.ini_name)
    except (ValueError, KeyError):  # not registered in this run
        return None


def option_value(config: pytest.Config, spec: OptionSpec) -> Any:
    """The raw value of ``spec`` by CLI > env > ini > default (None when unset)."""
    from .run.settings import raw_value

    value, _ = raw_value(
        spec, lambda _: _cli(config, spec), lambda _: _ini(config, spec), os.environ
    )
    return value


def read_settings(
    config: pytest.Config, data_suite: bool, namespace: Any = None
) -> tuple[Settings, list[str]]:
    """The run's settings, resolved once, and every problem with them."""
    by_dest = {spec.dest: spec for spec in OPTIONS}
    return resolve_partial(
        cli=lambda dest: _cli(config, by_dest[dest], namespace),
        ini=lambda dest: _ini(config, by_dest[dest]),
        data_suite=data_suite,
    )
