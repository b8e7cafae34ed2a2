"""The report builder on plain facts: outcomes, consumers, status, headline, size, writing."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from report_helpers import check_report

from pytest_dataflight.report import build as rpt
from pytest_dataflight.report.evidence import to_jsonable
from pytest_dataflight.stores.masking import Masker


def contract(name: str, consumers: list[str], severity: str = "error") -> dict[str, Any]:
    return {
        "contract": name,
        "stage": "postflight",
        "phases": ["phase1"],
        "consumers": consumers,
        "severity": severity,
    }


def ran(
    name: str,
    consumers: list[str],
    call: str = "passed",
    *,
    setup: str = "passed",
    severity: str = "error",
    message: str | None = None,
    evidence: dict[str, Any] | None = None,
    **extra: Any,
) -> rpt.TestFacts:
    phases = {
        "setup": rpt.Phase("setup", setup, setup, 0.01, message if setup != "passed" else None)
    }
    if setup == "passed" and call:
        phases["call"] = rpt.Phase("call", call, call, 0.5, message if call != "passed" else None)
    return rpt.TestFacts(
        nodeid=f"test_x.py::test_{name}",
        lineno=1,
        contract=contract(name, consumers, severity),
        phases=phases,
        evidence=evidence,
        **extra,
    )


def facts(*tests: rpt.TestFacts, exit_code: int = 0, **kw: Any) -> rpt.RunFacts:
    collected = kw.pop("collected", None)
    if collected is None:
        collected = [rpt.Collected(t.nodeid, t.lineno, t.contract) for t in tests]
    return rpt.RunFacts(
        exit_code=exit_code,
        started_at=time.time(),
        duration_s=1.0,
        run_date="2026-04-18",
        target="mock",
        collected=collected,
        tests=list(tests),
        **kw,
    )


def build(f: rpt.RunFacts, mask: Masker | None = None) -> dict[str, Any]:
    report = rpt.build_report(f, mask.mask if mask else None)
    check_report(report)
    assert len(rpt.dumps(report)) <= rpt.MAX_REPORT_BYTES
    return report


def test_all_held_is_passed_with_every_consumer_ok() -> None:
    report = build(facts(ran("a", ["research"]), ran("b", ["research", "spot"])))
    assert report["status"] == "passed"
    assert report["consumers"] == {"research": "ok", "spot": "ok"}
    assert report["blocked_consumers"] == []
    assert report["headline"].startswith("dataflight PASSED run-date=2026-04-18 target=mock")


def test_a_failed_contract_blocks_only_its_consumers() -> None:
    report = build(
        facts(
            ran("pointer", ["research", "spot"], "failed", message="latest is 2026-04-10"),
            ran("macro", ["research", "lambda"]),
            exit_code=1,
        )
    )
    assert report["status"] == "failed"
    assert report["consumers"] == {"lambda": "ok", "research": "blocked", "spot": "blocked"}
    assert report["blocked_consumers"] == ["research", "spot"]
    assert [f["contract"] for f in report["failures"]] == ["pointer"]
    assert "pointer [failed] -> research, spot (latest is 2026-04-10)" in report["headline"]


def test_unevaluated_is_error_not_failed_and_still_blocks() -> None:
    # Given a store that did not answer: nobody can vouch for what consumers would read.
    report = build(
        facts(
            ran("reach", ["producer"], "failed", unevaluated="StoreUnreachable: no answer"),
            ran("fine", ["lambda"]),
            exit_code=1,
        )
    )
    assert report["status"] == "error"
    assert report["contracts"][0]["outcome"] == "error"
    assert report["blocked_consumers"] == ["producer"]


def test_one_failure_makes_the_run_failed_even_with_errors() -> None:
    report = build(
        facts(
            ran("bad", ["a"], "failed"),
            ran("unreachable", ["b"], setup="failed", call=""),
            exit_code=1,
        )
    )
    assert report["status"] == "failed"
    assert report["blocked_consumers"] == ["a", "b"]


def test_warn_contracts_are_listed_but_never_block() -> None:
    report = build(
        facts(
            ran("optional", ["dash"], severity="warn", warned="3 of 40 rows late"),
            ran("core", ["dash"]),
        )
    )
    assert report["status"] == "passed"
    assert report["contracts"][0]["outcome"] == "warned"
    assert report["contracts"][0]["message"] == "3 of 40 rows late"
    assert report["consumers"] == {"dash": "ok"}
    assert "1 warned" in report["headline"]


def test_skipped_optional_artifact_does_not_block() -> None:
    report = build(facts(ran("opt", ["x"], "skipped", message="absent")))
    assert report["status"] == "passed"
    assert report["contracts"][0]["message"] == "absent"


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"exit_code": 2, "interrupted": "SIGTERM"}, "interrupted (SIGTERM)"),
        ({"exit_code": 3, "internal_error": "RuntimeError: boom"}, "internal error: RuntimeError"),
        ({"exit_code": 4, "usage_error": "invalid run date"}, "usage error: invalid run date"),
        ({"exit_code": 5}, "no contracts were collected"),
        ({"exit_code": 6}, "pytest exited with code 6"),
    ],
)
def test_run_level_errors(kw: dict[str, Any], reason: str) -> None:
    tests = [] if kw["exit_code"] == 5 else [ran("a", ["x"])]
    report = build(facts(*tests, **kw))
    assert report["status"] == "error"
    assert report["reason"].startswith(reason)
    assert reason in report["headline"]


def test_interrupted_run_marks_running_and_unreached_not_run() -> None:
    first = ran("first", ["a"])
    running = ran("running", ["b"], call="")  # setup done, killed during the call
    never = rpt.Collected("test_x.py::test_never", 9, contract("never", ["c"]))
    collected = [rpt.Collected(t.nodeid, 1, t.contract) for t in (first, running)] + [never]
    report = build(facts(first, running, exit_code=2, interrupted="SIGINT", collected=collected))
    got = {e["contract"]: (e["outcome"], e["message"]) for e in report["contracts"]}
    assert got == {
        "first": ("passed", None),
        "running": ("not_run", "interrupted"),
        "never": ("not_run", "interrupted"),
    }
    # Nobody vouched for the consumers of what never ran: unchecked, not ok, not blocked
    assert report["consumers"] == {"a": "ok", "b": "unchecked", "c": "unchecked"}
    assert report["blocked_consumers"] == []


def test_headline_stays_one_line_under_1000_chars_with_200_failures() -> None:
    tests = [
        ran(f"c{i:03d}", [f"consumer{i}"], "failed", message="x" * 300 + "\nsecond line")
        for i in range(200)
    ]
    report = build(facts(*tests, exit_code=1))
    headline = report["headline"]
    assert len(headline) <= 1000
    assert "\n" not in headline
    assert "more" in headline  # what did not fit is counted, not dropped silently
    assert headline.startswith("dataflight FAILED run-date=2026-04-18 target=mock: 200 of 200")


def test_a_report_full_of_quotes_fits_a_state_machine_once_escaped() -> None:
    # Given 3,000 failed contracts whose messages are mostly quotes (each one
    # escaped doubles in a Step Functions state: S3 getObject's Body is a JSON string)
    entries = [
        ran(f"quoted_{i:04d}", ["research"], "failed", message='"' * 400) for i in range(3_000)
    ]
    report = build(facts(*entries, exit_code=1))
    # Then the report as a state machine holds it fits the budget, and so within 256 KB
    escaped = len(json.dumps(rpt.dumps(report).decode("utf-8")).encode("utf-8"))
    assert escaped == rpt.state_size(report) <= rpt.MAX_REPORT_BYTES < 256 * 1024
    assert report["truncation"]["contracts_omitted"] > 0  # what did not fit is counted


def test_10000_stale_tickers_fit_in_256kb_and_the_cut_is_counted() -> None:
    tickers = [f"T{i:05d}" for i in range(10_000)]
    huge_message = f"10000 of 10000 symbols stale: {tickers}"
    evidence = {
        # As the evidence fixture stores it (cut to 50 with a count) and raw.
        "stale": to_jsonable(tickers),
        "raw": tickers,
        "last_rows": {t: "2026-04-10" for t in tickers},
    }
    report = build(
        facts(
            ran("universe_fresh", ["research"], "failed", message=huge_message, evidence=evidence),
            exit_code=1,
        )
    )
    size = len(rpt.dumps(report))
    assert size <= rpt.MAX_REPORT_BYTES
    entry = report["contracts"][0]
    # Every cut says how much was left out, where it happened...
    assert entry["evidence"]["stale"]["total"] == 10_000
    assert entry["evidence"]["raw"]["truncated"] == 10_000 - len(entry["evidence"]["raw"]["items"])
    assert entry["evidence"]["last_rows"]["..."].endswith("more keys of 10000")
    assert "more chars]" in entry["message"]
    # ...and the report counts the cuts the size budget made.
    assert report["truncation"]["strings_cut"] >= 1
    assert report["truncation"]["list_items_cut"] >= 9_900


def test_thousands_of_contracts_drop_passed_entries_first_and_count_them() -> None:
    tests = [
        ran(f"ok{i}", ["a"], evidence={"k": "v" * 200}, message="m" * 400) for i in range(1200)
    ]
    tests += [ran("broken", ["b"], "failed", message="bad")]
    report = build(facts(*tests, exit_code=1))
    cut = report["truncation"]
    assert cut["contracts_omitted"] > 0
    assert cut["failures_omitted"] == 0
    assert [f["contract"] for f in report["failures"]] == ["broken"]
    assert report["blocked_consumers"] == ["b"]  # decided before anything was cut
    assert len(report["contracts"]) + cut["contracts_omitted"] == 1201


def test_every_string_is_masked() -> None:
    masker = Masker(["s3cr3t-value"])
    report = build(
        facts(
            ran(
                "probe",
                ["x"],
                "failed",
                message="GET /q?apikey=abc123 failed with s3cr3t-value",
                evidence={"url": "http://h/x?token=zzz", "nested": ["s3cr3t-value"]},
            ),
            exit_code=1,
        ),
        masker,
    )
    text = json.dumps(report)
    for leak in ("s3cr3t-value", "abc123", "zzz"):
        assert leak not in text


def test_collection_errors_are_error_entries() -> None:
    report = build(
        facts(
            exit_code=2,
            collection_errors=[("test_broken.py", "SyntaxError: invalid syntax")],
            stop_reason="1 error during collection",
            collected=[rpt.Collected("test_ok.py::test_ok", 1, contract("ok", ["a"]))],
        )
    )
    assert report["status"] == "error"
    first, second = report["contracts"]
    assert (first["nodeid"], first["outcome"]) == ("test_broken.py", "error")
    assert (second["outcome"], second["message"]) == (
        "not_run",
        "not run: 1 error during collection",
    )


def test_write_is_atomic_and_a_failed_write_keeps_the_previous_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "reports" / "dataflight-report.json"
    rpt.write_atomic(path, b'{"previous": true}')
    assert path.read_bytes() == b'{"previous": true}'

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        rpt.write_atomic(path, b'{"new": true}' * 1000)
    monkeypatch.undo()
    assert path.read_bytes() == b'{"previous": true}'
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp file left


def test_schema_is_draft_2020_12_and_shipped_in_the_package() -> None:
    schema = rpt.schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert (Path(rpt.__file__).parent / "report.schema.json").is_file()
