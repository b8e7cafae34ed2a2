"""Property: any JSON in place of an artifact makes its contract pass or fail, naming it.

Hypothesis writes arbitrary JSON values (and documents of the artifact's own
shape with arbitrary values inside) to each artifact's key on a real
moto_server, then calls the contract as the suite defines it. It must return
(held) or end with ``pytest.fail`` / ``pytest.skip`` whose message names the
artifact: never another exception, which would make it an error (or an
INTERNALERROR) instead of a finding about the data.

Bounded for CI: 60 examples per artifact, derandomized (the same draws on
every run), no deadline (moto answers at its own pace on a loaded machine).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from contract_calls import policy_fixtures
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datatests import test_postflight_phase1 as phase1
from datatests import test_postflight_phase2 as phase2
from datatests.layout import (
    ALTERNATIVE_MANIFEST,
    CONSTITUENTS_JSON,
    MACRO_JSON,
    POINTER_KEY,
    SHORT_INTEREST_JSON,
    weekly_key,
)
from pytest_dataflight import Evidence
from pytest_dataflight.mock.moto_server import FAKE_CREDENTIALS, MotoServer

RUN_DATE = dt.date(2026, 4, 18)
BUCKET = "property-artifacts"
BOUNDED = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and Infinity included: json writes them, the contracts must cope
    | st.text(max_size=20)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=30,
)


def shaped(*keys: str) -> st.SearchStrategy[Any]:
    """An object with the artifact's own keys, each holding anything."""
    return st.fixed_dictionaries({k: JSON for k in keys}, optional={"extra": JSON})


ARTIFACTS: dict[str, tuple[str, Callable[..., None], st.SearchStrategy[Any]]] = {
    "pointer": (POINTER_KEY, phase1.test_latest_weekly_pointer, shaped("date", "s3_prefix")),
    "macro": (weekly_key(RUN_DATE, MACRO_JSON), phase1.test_macro_json, shaped("fed_funds_rate")),
    "constituents": (
        weekly_key(RUN_DATE, CONSTITUENTS_JSON),
        phase1.test_constituents_json,
        shaped("tickers", "sector_map", "total_count"),
    ),
    "short_interest": (
        weekly_key(RUN_DATE, SHORT_INTEREST_JSON),
        phase1.test_short_interest_json,
        shaped("data", "ticker_count", "ok_count"),
    ),
    "manifest": (
        weekly_key(RUN_DATE, ALTERNATIVE_MANIFEST),
        phase2.test_alternative_manifest,
        shaped("tickers_requested", "source_ok_ratios", "source_min_ok_ratios"),
    ),
}


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        server = MotoServer().start()
        try:
            creds = {
                "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            }
            client = boto3.client(
                "s3", endpoint_url=server.endpoint, region_name="us-east-1", **creds
            )
            client.create_bucket(Bucket=BUCKET)
            yield client
        finally:
            server.stop()


@pytest.mark.parametrize("artifact", sorted(ARTIFACTS))
def test_any_json_is_a_finding_naming_the_artifact(s3: Any, artifact: str) -> None:
    key, contract, shape = ARTIFACTS[artifact]

    @BOUNDED
    @given(JSON | shape)
    def check(doc: Any) -> None:
        s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(doc).encode())
        try:
            contract(s3, BUCKET, RUN_DATE, Evidence(), **policy_fixtures(contract, RUN_DATE))
        except (pytest.fail.Exception, pytest.skip.Exception) as outcome:
            assert key.rsplit("/", 1)[-1] in str(outcome), (doc, str(outcome))

    check()
