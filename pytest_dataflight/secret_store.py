"""Secrets from SSM Parameter Store, else the environment; no pytest import.

(Not called ``secrets.py``: that would shadow the standard library.)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from .masking import Masker


class Secret(str):
    """A secret's value: a ``str`` for every use, but never shown by ``repr``.

    ``repr`` is what assertion introspection and ``-l`` locals print.
    """

    name: str
    source: str

    def __new__(cls, value: str, name: str = "", source: str = "") -> Secret:
        obj = super().__new__(cls, value)
        obj.name = name
        obj.source = source
        return obj

    def __repr__(self) -> str:
        return f"<secret {self.name} from {self.source}>"


class SecretStore:
    """Resolve named secrets: SSM ``<prefix><name>`` first, then the environment.

    SSM is asked once per name; once it fails to answer (no credentials, no
    endpoint, access denied), the rest of the run uses the environment alone,
    and :attr:`ssm_problem` says why.
    """

    def __init__(
        self,
        prefix: str,
        ssm_client: Callable[[], Any] | None,
        masker: Masker,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self._ssm_client = ssm_client
        self._masker = masker
        self._environ = os.environ if environ is None else environ
        self._cache: dict[str, Secret | None] = {}
        self.ssm_problem: str | None = None

    def _from_ssm(self, name: str) -> str | None:
        if self._ssm_client is None or self.ssm_problem:
            return None
        try:
            client = self._ssm_client()
            answer = client.get_parameter(Name=self.prefix + name, WithDecryption=True)
            return str(answer["Parameter"]["Value"])
        except Exception as exc:
            response = getattr(exc, "response", None) or {}
            code = response.get("Error", {}).get("Code", "")
            if code == "ParameterNotFound":
                return None
            # Anything else says SSM is unusable for this run; say it once.
            self.ssm_problem = f"SSM Parameter Store not used: {type(exc).__name__}"
            return None

    def get(self, name: str) -> Secret | None:
        if name not in self._cache:
            value = self._from_ssm(name)
            source = f"ssm:{self.prefix}{name}"
            if value is None:
                value = self._environ.get(name) or None
                source = f"env:{name}"
            if value is None:
                self._cache[name] = None
            else:
                self._masker.add(value)
                self._cache[name] = Secret(value, name, source)
        return self._cache[name]

    def where(self, name: str) -> str:
        """Where a secret would be looked for, for messages."""
        return f"SSM {self.prefix}{name} or environment variable {name}"
