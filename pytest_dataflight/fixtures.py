"""The fixtures a contract receives. Thin: the work is in run/ and stores/."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .report.evidence import Evidence
from .report.verdicts import Prop
from .run.contract import ContractInfo
from .run.policy import Thresholds, Waivers, thresholds_in_force, waivers_for
from .run.state import RunState, get_state, state_key
from .stores.clients import Endpoints, LibraryMissing, StoreUnreachable, WriteMode
from .stores.secret_store import SecretStore
from .stores.trading_calendar import TradingCalendar

HTTP_CONNECT_TIMEOUT_S = 3.0
HTTP_READ_TIMEOUT_S = 5.0
# An external API is asked up to 3 times (2 retries) before an outage is reported.
HTTP_RETRIES = 2
HTTP_BACKOFF_S = 0.25
# Answers that say the API failed rather than refused us: an outage, retried.
OUTAGE_STATUSES = frozenset({429, 500, 502, 503, 504})


def _state(request: pytest.FixtureRequest) -> RunState:
    return get_state(request.config)


@pytest.fixture(scope="session")
def run_date(request: pytest.FixtureRequest) -> dt.date:
    """The pipeline's logical date (``--run-date``), a ``datetime.date``."""
    value = _state(request).settings.run_date
    if value is None:
        raise pytest.UsageError("no run date: add --run-date YYYY-MM-DD or set DATAFLIGHT_RUN_DATE")
    return value


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> str:
    """The resolved target: ``"live"`` or ``"mock"``."""
    value = _state(request).settings.target
    if value is None:
        raise pytest.UsageError("no target: add --target mock or --target live")
    return value


@pytest.fixture(scope="session")
def dataflight_endpoints(request: pytest.FixtureRequest, target: str) -> Endpoints:
    """Where the stores and APIs are (starts the mock world on first use)."""
    return _state(request).get_endpoints()


@pytest.fixture(scope="session")
def bucket(dataflight_endpoints: Endpoints) -> str:
    """The bucket under check (``DATAFLIGHT_BUCKET``; a moto bucket on the mock target)."""
    return dataflight_endpoints.bucket


def _write_mode(item: pytest.Item) -> WriteMode:
    info = ContractInfo.from_item(item)
    preflight = info is not None and info.stage == "preflight"
    return WriteMode.PREFLIGHT if preflight else WriteMode.READ_ONLY


@pytest.fixture
def s3(request: pytest.FixtureRequest, dataflight_endpoints: Endpoints) -> Any:
    """A boto3 S3 client with timeouts and bounded retries.

    Read-only for every check except a preflight contract, which may PUT and
    DELETE under ``preflight/`` only. Errors at once if the endpoint is known
    not to answer.
    """
    state = _state(request)
    state.s3_health()
    return state.client("s3", _write_mode(request.node))


@pytest.fixture
def arctic(request: pytest.FixtureRequest, dataflight_endpoints: Endpoints) -> Any:
    """An ``arcticdb.Arctic`` on the bucket's ``arcticdb/`` prefix, with fail-fast timeouts."""
    return _state(request).arctic()


@pytest.fixture
def arctic_library(arctic: Any) -> Callable[[str], Any]:
    """``arctic_library(name)`` -> the ArcticDB library; a missing one fails with its name."""

    def get(name: str) -> Any:
        if not arctic.has_library(name):
            raise LibraryMissing(name, sorted(arctic.list_libraries()))
        return arctic.get_library(name)

    return get


@pytest.fixture(scope="session")
def trading_calendar(request: pytest.FixtureRequest) -> TradingCalendar:
    """NYSE (XNYS) sessions from ``exchange_calendars``: last session on or before a
    date, sessions between two dates, sessions behind."""
    return _state(request).calendar


@pytest.fixture
def secret(request: pytest.FixtureRequest, dataflight_endpoints: Endpoints) -> SecretStore:
    """``secret(name)`` -> its value from SSM ``<prefix><name>``, else the environment, else
    None. Values are masked everywhere and their ``repr`` never shows them; ``secret.prefix``
    and ``secret.ssm_problem`` say where it looked and why SSM could not answer."""
    return _state(request).secrets()


@pytest.fixture(scope="session")
def api_urls(dataflight_endpoints: Endpoints) -> dict[str, str]:
    """Base URL of each external API the suite declares (``<NAME>_API_URL`` on live)."""
    return dict(dataflight_endpoints.api_urls)


@pytest.fixture(scope="session")
def http() -> Iterator[Any]:
    """A ``requests.Session`` whose every call has connect/read timeouts and bounded
    retries: no answer, a timeout, a 5xx or a 429 is asked again (with a short
    backoff, never waiting out a ``Retry-After``); what is left after them is the
    outage a probe reports as :class:`ApiUnavailable`. The last answer is returned,
    not raised: a probe reads its status."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    class TimeoutAdapter(HTTPAdapter):
        def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = (HTTP_CONNECT_TIMEOUT_S, HTTP_READ_TIMEOUT_S)
            return super().send(request, **kwargs)

    session = requests.Session()
    retry = Retry(
        total=HTTP_RETRIES,
        connect=HTTP_RETRIES,
        read=1,  # a silent API costs read timeout x 2: enough to call it an outage
        status=HTTP_RETRIES,
        other=0,
        status_forcelist=OUTAGE_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        backoff_factor=HTTP_BACKOFF_S,
        respect_retry_after_header=False,  # a Retry-After of an hour would hang the check
        raise_on_status=False,
    )
    adapter = TimeoutAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    with session:
        yield session


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> Iterator[Evidence]:
    """Record JSON facts for the report: ``evidence["last_row"] = date``.

    pandas and numpy values are converted; long lists are cut with a count.
    """
    record = Evidence()
    yield record
    # Plain dict, at teardown: user_properties must survive xdist's serialisation.
    request.node.user_properties.append(("dataflight_evidence", record.to_json()))


def _contract(request: pytest.FixtureRequest, fixture: str) -> ContractInfo:
    info = ContractInfo.from_item(request.node)
    if info is None:
        raise pytest.UsageError(
            f"the {fixture} fixture belongs to a contract: declare {request.node.name} "
            "with @pytest_dataflight.contract"
        )
    return info


@pytest.fixture
def thresholds(request: pytest.FixtureRequest) -> Thresholds:
    """The values in force of this contract's declared thresholds: its defaults
    (``@contract(thresholds=...)``), as a policy file may have changed them."""
    info = _contract(request, "thresholds")
    return thresholds_in_force(info.name, info.thresholds, _state(request).policy)


@pytest.fixture
def waivers(request: pytest.FixtureRequest, evidence: Evidence) -> Iterator[Waivers]:
    """``waivers.split(findings, subject)`` -> (kept, waived): the findings whose subject
    a policy waiver in force names leave the verdict and are listed in the evidence
    as waived (never hidden); the report says what each waiver did."""
    info = _contract(request, "waivers")
    state = _state(request)
    found = waivers_for(info.name, state.policy, state.settings.run_date)
    yield found
    if found.waived:
        evidence["waived"] = found.waived
    if found.counts:
        counts = {str(index): n for index, n in found.counts.items()}
        request.node.user_properties.append((Prop.WAIVED.value, counts))


@pytest.fixture(autouse=True)
def _dataflight_policy_gate(request: pytest.FixtureRequest) -> None:
    # A policy on S3 that the store could not serve: no contract may run on
    # defaults it was not meant to run on; each errors with the reason (retry).
    state = request.config.stash.get(state_key, None)
    if state is not None and state.policy_problem and ContractInfo.from_item(request.node):
        raise StoreUnreachable(state.policy_problem)


@pytest.fixture(scope="session")
def recent_rows(request: pytest.FixtureRequest, dataflight_endpoints: Endpoints) -> Any:
    """``recent_rows(library, symbols, rows=25)``: each symbol's last rows, read once per run.

    One batched ArcticDB read, shared by every contract that asks. Returns a ``Window``:
    per symbol a status (``ok`` ``empty`` ``missing`` ``unreadable`` ``store_error``), a
    frame indexed by naive dates and a one-line reason. ``window.raise_for_store_errors()``
    makes the contract an error when the store, not the data, failed.
    """
    from .stores.windows import WindowCache

    state = _state(request)

    def open_arctic() -> Any:
        # Honour the run's circuit breaker: a store known to be down errors at once.
        state.s3_health()
        return state.arctic()

    return WindowCache(open_arctic, before_read=state.s3_health)
