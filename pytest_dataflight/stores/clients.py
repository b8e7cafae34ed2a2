"""S3, SSM and ArcticDB clients that fail fast and respect read-only; no pytest import.

Live and mock differ only in the :class:`Endpoints` these are built from,
never in what a contract receives.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar
from urllib.parse import urlsplit

# boto3: a dead endpoint costs at most connect_timeout x attempts; a silent one
# read_timeout x attempts. Bounded, standard-mode retries.
CONNECT_TIMEOUT_S = 2
READ_TIMEOUT_S = 5
MAX_ATTEMPTS = 2
# botocore's "max_attempts" counts retries after the first try (2 meant 3 tries);
# "total_max_attempts" counts tries, as AWS_MAX_ATTEMPTS does.
ONE_ATTEMPT: dict[str, Any] = {"retries": {"total_max_attempts": 1, "mode": "standard"}}

# ArcticDB's AWS SDK: without these, each failing request retries for ~25 s
# and a silent endpoint can hold a call for half an hour.
ARCTIC_CONFIG_INTS = {
    "S3Storage.ConnectTimeoutMs": CONNECT_TIMEOUT_S * 1000,
    "S3Storage.RequestTimeoutMs": READ_TIMEOUT_S * 1000,
    "S3Storage.HttpRequestTimeoutMs": READ_TIMEOUT_S * 1000,
    # 3 by default on 2 cores; batch metadata reads are latency-bound, not CPU-bound.
    "VersionStore.NumIOThreads": 16,
}
# AWS_MAX_ATTEMPTS alone is ignored by the C++ SDK; it needs the retry mode too.
ARCTIC_ENV = {
    "AWS_RETRY_MODE": "standard",
    "AWS_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
    "AWS_EC2_METADATA_DISABLED": "true",
}
ARCTIC_PATH_PREFIX = "arcticdb"

ARCTIC_NO_ANSWER = ("Network error", "curlCode", "Timeout was reached", "Couldn't connect")
# What ArcticDB says when the store failed rather than the data: retryable S3 errors
# (5xx, 503 SlowDown; its transport failures are "retryable" too) and any HTTP 5xx.
_ARCTIC_STORE_FAILED = re.compile(
    "|".join(
        [r"E_S3_RETRYABLE", r"HttpResponseCode:\s*5\d\d", r"SlowDown", r"Throttl"]
        + [re.escape(marker) for marker in ARCTIC_NO_ANSWER]
    )
)
_ARCTIC_HTTP_STATUS = re.compile(r"HttpResponseCode:\s*(5\d\d)")
# botocore's own list of throttling codes (botocore.retries.standard), S3's SlowDown among them.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
NO_ANSWER = "did not answer"

READ_ONLY_PREFIXES = ("Get", "Head", "List")
PREFLIGHT_PREFIX = "preflight/"


class WriteMode(StrEnum):
    """What an S3 client handed to a check may write."""

    FULL = "full"  # seeding and the plugin's own uploads
    PREFLIGHT = "preflight"  # PUT/DELETE of single objects under preflight/ only
    READ_ONLY = "read_only"  # every postflight check


class StoreUnreachable(ConnectionError):
    """The store under check did not answer, or answered that it failed (5xx,
    throttling) after the bounded retries: the check cannot be evaluated."""

    # Says the S3 endpoint failed: trips its circuit breaker (see StoreHealth.fail).
    trips_s3_breaker: ClassVar[bool] = True
    # The name a report's message starts with (every store failure reads the same).
    label: ClassVar[str] = "StoreUnreachable"


class ApiUnavailable(StoreUnreachable):
    """An external HTTP API did not answer, timed out, or answered 5xx or 429 after
    the bounded retries: its probe cannot be evaluated. An outage is transient, so
    the orchestrator should retry rather than page a human (DESIGN.md, "Failed or
    error?"); a refused key or a wrong answer is a failure instead."""

    trips_s3_breaker = False
    label = "ApiUnavailable"


class SecretStoreUnreachable(StoreUnreachable):
    """SSM Parameter Store failed; says nothing about the S3 endpoint."""

    trips_s3_breaker = False


class ArcticUnreachable(StoreUnreachable):
    """The ArcticDB store of an explicit URI (``DATAFLIGHT_ARCTIC_URI``) failed while
    the S3 endpoint answers: the URI is wrong or its store is down, not the bucket."""

    trips_s3_breaker = False
    label = "ArcticUnreachable"


class MissingStore(LookupError):
    """The store answered, and what every check of it needs is not there: a fact about
    the data or the setup, so each check that needs it *fails* (do not retry), and
    the report groups them under this one cause (``cause``: the same text for all)."""

    @property
    def cause(self) -> str:
        return str(self)


class BucketMissing(MissingStore):
    """The S3 endpoint answered that the bucket does not exist: it works, the data is absent."""


class LibraryMissing(MissingStore):
    """An ArcticDB library does not exist (its store answered: this is not an outage)."""

    def __init__(self, name: str, present: list[str] | None = None, consequence: str = "") -> None:
        self.name = name
        listed = (
            f" (libraries present: {', '.join(present) or 'none'})" if present is not None else ""
        )
        said = f": {consequence}" if consequence else ""
        super().__init__(f"ArcticDB library {name!r} does not exist{listed}{said}")

    @property
    def cause(self) -> str:
        # Without the listing: a check that listed and one that did not share the cause.
        return f"ArcticDB library {self.name!r} does not exist"


class CredentialsRefused(MissingStore):
    """The S3 endpoint refused the credentials themselves (an unknown key, a wrong
    secret, an expired token): every check would be refused the same way."""


# S3's codes for credentials it does not accept (not for a policy that denies them).
REFUSED_CREDENTIALS_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
    }
)


class ReadOnlyViolation(PermissionError):
    """A check tried to write where it may only read."""


@dataclass(frozen=True)
class Endpoints:
    """Where the stores and APIs of one target are."""

    bucket: str
    region: str
    s3_endpoint: str | None = None  # None: boto3's own resolution (AWS_ENDPOINT_URL*, AWS)
    ssm_endpoint: str | None = None
    arctic_uri: str | None = None
    api_urls: Mapping[str, str] = field(default_factory=dict)
    # Explicit keys (the mock world's); None: boto3's default credential chain.
    # Never in repr: an Endpoints can end up in a message or a traceback.
    credentials: Mapping[str, str] | None = field(default=None, repr=False)

    def describe_s3(self) -> str:
        return self.s3_endpoint or f"https://s3.{self.region}.amazonaws.com"


def s3_endpoint_from_env(env: Mapping[str, str]) -> str | None:
    return env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None


def ssm_endpoint_from_env(env: Mapping[str, str]) -> str | None:
    return env.get("AWS_ENDPOINT_URL_SSM") or env.get("AWS_ENDPOINT_URL") or None


def arctic_uri_for(bucket: str, region: str, s3_endpoint: str | None) -> str:
    """The ArcticDB URI for ``bucket``'s ``arcticdb/`` prefix behind ``s3_endpoint``."""
    query = f"path_prefix={ARCTIC_PATH_PREFIX}&aws_auth=true"
    if s3_endpoint is None:
        return f"s3s://s3.{region}.amazonaws.com:{bucket}?{query}"
    parts = urlsplit(s3_endpoint)
    scheme = "s3s" if parts.scheme == "https" else "s3"
    host = parts.hostname or "127.0.0.1"
    port = f"&port={parts.port}" if parts.port else ""
    return f"{scheme}://{host}:{bucket}?{query}{port}&region={region}"


def describe_arctic_uri(uri: str) -> str:
    """An ArcticDB URI without its query string, where keys may travel."""
    return uri.split("?", 1)[0]


def one_line_error(text: str) -> str:
    """``text`` on one line: the native errors of ArcticDB span several."""
    return " ".join(str(text).split())


def botocore_config(**overrides: Any) -> Any:
    from botocore.config import Config

    settings: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT_S,
        "read_timeout": READ_TIMEOUT_S,
        "retries": {"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    }
    settings.update(overrides)
    return Config(**settings)


def make_client(
    service: str,
    endpoint: str | None,
    region: str,
    *,
    credentials: Mapping[str, str] | None = None,
    write_mode: WriteMode = WriteMode.FULL,
    one_attempt: bool = False,
) -> Any:
    """The one way this package builds a boto3 client: timeouts, bounded retries,
    explicit ``credentials`` (``aws_access_key_id``/``aws_secret_access_key``) or
    boto3's chain, and for S3 the write guard of ``write_mode``.

    ``one_attempt`` answers "does the endpoint answer at all": retrying only
    delays that verdict.
    """
    import boto3

    session = boto3.session.Session(**dict(credentials or {}))
    client = session.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        config=botocore_config(**(ONE_ATTEMPT if one_attempt else {})),
    )
    if service == "s3":
        client = guard_writes(client, write_mode)
    return client


def guard_writes(client: Any, mode: WriteMode) -> Any:
    """Refuse mutating S3 calls: ``read_only`` refuses all, ``preflight`` allows
    PUT/DELETE of single objects under ``preflight/`` only, ``full`` allows all."""
    if mode == WriteMode.FULL:
        return client

    def check(params: Mapping[str, Any], model: Any, **_: Any) -> None:
        op = model.name
        if op.startswith(READ_ONLY_PREFIXES):
            return
        key = str(params.get("Key", ""))
        if mode == WriteMode.PREFLIGHT and op in ("PutObject", "DeleteObject"):
            if key.startswith(PREFLIGHT_PREFIX):
                return
        where = f" (key {key!r})" if key else ""
        allowed = (
            f"only PutObject/DeleteObject under {PREFLIGHT_PREFIX}"
            if mode == WriteMode.PREFLIGHT
            else "no writes"
        )
        raise ReadOnlyViolation(
            f"S3 {op}{where} refused: this check may read only ({allowed}); "
            "postflight checks run under a read-only role in production"
        )

    client.meta.events.register("before-parameter-build.s3.*", check)
    return client


def is_no_answer(exc: BaseException) -> bool:
    """True when ``exc`` means the endpoint did not answer at all (not an HTTP error)."""
    try:
        from botocore import exceptions as bx
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return False
    if isinstance(exc, StoreUnreachable):
        return True
    if isinstance(exc, bx.ConnectionError | bx.HTTPClientError):
        return True
    # ArcticDB's native client: transport failures come as StorageException
    # whose text carries curl's verdict; HTTP errors (403, 404) do not match.
    if type(exc).__name__ == "StorageException":
        text = str(exc)
        return any(marker in text for marker in ARCTIC_NO_ANSWER)
    return False


def store_failure(answer: BaseException | str) -> str | None:
    """How the store failed, as a phrase for messages ("did not answer", "answered 503
    SlowDown"), or None when ``answer`` is not the store failing.

    The one classifier of S3, SSM and ArcticDB answers, for raised errors and for
    the per-symbol error texts of ArcticDB's batch results alike: no answer, a 5xx
    or throttling (after the bounded retries) mean the check could not be evaluated;
    any other answer (403, 404, a parameter not found) is about the data.
    """
    if isinstance(answer, str):
        return _arctic_failure(answer)
    if isinstance(answer, StoreUnreachable):
        return "failed"
    if is_no_answer(answer):
        return NO_ANSWER
    response = getattr(answer, "response", None)
    if isinstance(response, Mapping):
        return _aws_failure(response)
    # Only ArcticDB's own errors are read as text: a contract's message may quote anything.
    if type(answer).__module__.startswith("arcticdb"):
        return _arctic_failure(str(answer))
    return None


def is_store_failure(answer: BaseException | str) -> bool:
    """True when ``answer`` (an exception, or a batch result's error text) means the
    store failed, not the data: see :func:`store_failure`."""
    return store_failure(answer) is not None


def _aws_failure(response: Mapping[str, Any]) -> str | None:
    # A botocore ClientError's response: throttled by code (SSM throttles with 400),
    # failed by status (a HEAD has no body, so no code but its status).
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    status = status if isinstance(status, int) else 0
    if code in THROTTLING_CODES or status == 429 or status >= 500:
        said = f"{status} {code}" if code and code != str(status) else str(status or code)
        return f"answered {said}"
    return None


def _arctic_failure(text: str) -> str | None:
    if not _ARCTIC_STORE_FAILED.search(text):
        return None
    if any(marker in text for marker in ARCTIC_NO_ANSWER):
        return NO_ANSWER
    status = _ARCTIC_HTTP_STATUS.search(text)
    return f"answered {status.group(1)}" if status else "failed (E_S3_RETRYABLE)"


@dataclass
class StoreHealth:
    """Whether the S3 endpoint works, probed once per process.

    Once it is known not to answer, or to answer that it failed (5xx,
    throttling), every later check that needs it errors at once instead of
    waiting out its own timeouts and retries.
    """

    endpoint: str
    problem: str | None = None
    probed: bool = False
    bucket_exists: bool | None = None
    # The endpoint answered that the bucket is absent or the credentials are refused.
    missing: MissingStore | None = None

    def probe(self, client: Any, bucket: str, retrying: Callable[[], Any] | None = None) -> None:
        """HEAD ``bucket`` with ``client``, which tries once: a dead endpoint is known at
        once. An answer that the store failed is asked again through ``retrying``'s
        client (bounded retries) before the store is taken for failing."""
        if self.probed:
            return
        failed = self._head(client, bucket)
        if failed is not None and failed[0] != NO_ANSWER and retrying is not None:
            failed = self._head(retrying(), bucket)
        if failed is not None:
            phrase, exc = failed
            self.problem = f"S3 endpoint {self.endpoint} {phrase}: {type(exc).__name__}: {exc}"
        elif self.bucket_exists is False:
            self.missing = BucketMissing(
                f"bucket {bucket!r} does not exist at {self.endpoint} "
                "(HEAD bucket answered 404 NoSuchBucket)"
            )
        elif self.bucket_exists is None:
            self.missing = _refused_credentials(client, bucket, self.endpoint)
        self.probed = True

    def _head(self, client: Any, bucket: str) -> tuple[str, BaseException] | None:
        """None if the endpoint answered about the bucket; else (how it failed, the error)."""
        from botocore.exceptions import ClientError

        try:
            client.head_bucket(Bucket=bucket)
            self.bucket_exists = True
        except Exception as exc:
            phrase = store_failure(exc)
            if phrase is not None:
                return phrase, exc
            if not isinstance(exc, ClientError):
                raise
            # It answered: 403/404 are findings for the contracts, not outages.
            code = str(exc.response.get("Error", {}).get("Code", ""))
            self.bucket_exists = False if code in ("404", "NoSuchBucket", "NotFound") else None
        return None

    def fail(self, exc: BaseException) -> None:
        """``exc`` says the store failed under a check: from now on every check that
        needs it errors at once, naming the endpoint (the first failure is kept)."""
        if self.problem is not None:
            return
        phrase = store_failure(exc) or "failed"
        if phrase == NO_ANSWER:
            phrase = "stopped answering"
        self.problem = f"S3 endpoint {self.endpoint} {phrase}: {type(exc).__name__}: {exc}"

    def require(self) -> None:
        if self.problem:
            raise StoreUnreachable(self.problem)
        if self.missing is not None:
            raise self.missing


def _refused_credentials(client: Any, bucket: str, endpoint: str) -> CredentialsRefused | None:
    """After a 403 to HEAD bucket (which has no body, so no error code): ask once more
    with a call that says why. Refused credentials fail every check alike; a policy
    that denies only the bucket listing is the bucket probe's finding alone."""
    from botocore.exceptions import ClientError

    try:
        client.list_objects_v2(Bucket=bucket, MaxKeys=1)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in REFUSED_CREDENTIALS_CODES:
            return CredentialsRefused(
                f"S3 endpoint {endpoint} refused the credentials ({code}): "
                "check the access key, secret and session token the run is given"
            )
    except Exception:  # noqa: BLE001 - only a refusal matters here; the checks see the rest
        return None
    return None


def configure_arcticdb() -> None:
    """Process-wide ArcticDB timeouts and IO concurrency (idempotent)."""
    from arcticdb_ext import set_config_int

    for name, value in ARCTIC_CONFIG_INTS.items():
        set_config_int(name, value)
    # ArcticDB's own warnings ("Failed to find segment ...") are noise on stderr
    # for a check: missing data is reported by the contract that finds it.
    try:
        from arcticdb.config import set_log_level

        set_log_level("ERROR")
    except Exception:  # pragma: no cover - older arcticdb without it
        pass


def arctic_env() -> dict[str, str]:
    return dict(ARCTIC_ENV)


def open_arctic(uri: str) -> Any:
    configure_arcticdb()
    import arcticdb

    return arcticdb.Arctic(uri)
