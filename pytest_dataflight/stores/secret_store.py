"""Secrets from SSM Parameter Store, else the environment; no pytest import.

(Not called ``secrets.py``: that would shadow the standard library.)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from .clients import SecretStoreUnreachable, store_failure
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

    SSM is asked once per name. A refusal (access denied) falls back to the
    environment and is kept in :attr:`ssm_problem`; no credentials at all turn
    SSM off for the run. When SSM does not answer, or answers 5xx or throttling
    after the bounded retries, a secret the environment lacks raises
    :class:`SecretStoreUnreachable` (a ``StoreUnreachable``): the check errors
    instead of failing, since nobody can say whether SSM holds it.
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
        # Why SSM could not give a secret (access denied, no credentials), for messages.
        self.ssm_problem: str | None = None
        self._ssm_off = False
        self._unreachable: str | None = None

    def _from_ssm(self, name: str) -> str | None:
        if self._ssm_client is None or self._ssm_off:
            return None
        if self._unreachable:
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
            failed = store_failure(exc)
            if failed is not None:
                # No answer, 5xx or throttling after the retries: nobody can say whether
                # SSM holds it. Remembered: get() errors for a secret the environment
                # lacks, for this name and every later one.
                self._unreachable = f"SSM Parameter Store {failed}: {type(exc).__name__}: {exc}"
                return None
            if not code:
                # No credentials or no SSM configured at all: the environment alone, for the run.
                self._ssm_off = True
            self.ssm_problem = f"SSM refused {self.prefix}{name}: {code or type(exc).__name__}"
            return None

    def get(self, name: str) -> Secret | None:
        """The secret's value from SSM, else the environment, else None."""
        if name not in self._cache:
            value = self._from_ssm(name)
            source = f"ssm:{self.prefix}{name}"
            if value is None:
                value = self._environ.get(name) or None
                source = f"env:{name}"
            if value is None and self._unreachable:
                # Not in the environment, and SSM could not say: the check cannot be
                # evaluated (an error, so the orchestrator retries rather than stops).
                raise SecretStoreUnreachable(self._unreachable)
            if value is None:
                self._cache[name] = None
            else:
                self._masker.add(value)
                self._cache[name] = Secret(value, name, source)
        return self._cache[name]

    __call__ = get
