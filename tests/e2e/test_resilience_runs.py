"""The walking skeleton end to end: naive fails, hardened passes, a defence removed fails
exactly its check. Verdicts are decided with wide margins (see the numbers in comments)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gaplab.checks.base import Verdict
from gaplab.demo.ownership import OWNERSHIP

from .conftest import run_lab, short_scenario, verdicts

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

OUTAGE_CHECKS = (
    "[resilience.fallback, resilience.contained, resilience.circuit_breaker, "
    "resilience.no_retry_storm, {resilience.recovery: {within: 3s}}]"
)
HANG_CHECKS = (
    "[resilience.timeout, resilience.fallback, resilience.contained, "
    "{resilience.recovery: {within: 3s}}]"
)


async def test_naive_target_fails_an_outage(tmp_path: Path, runs_dir: Path) -> None:
    path = short_scenario(tmp_path, "outage", "provider: {error: 503}", OUTAGE_CHECKS)
    _, result = await run_lab(path, "demo:naive", runs_dir)
    got = verdicts(result)
    assert result.status == "completed"
    assert got["resilience.fallback"] is Verdict.FAIL  # every outage answer is a 500
    assert got["resilience.circuit_breaker"] is Verdict.FAIL  # it keeps calling
    assert not result.scorecard.ready
    outage = result.record.phase("fault")
    assert outage is not None and outage.end is not None
    calls = result.record.calls_between(outage.start + 1, outage.end)
    # The SDK's defaults: 2 retries, announced in x-stainless-retry-count, 600 s read timeout.
    assert {c.retry_count for c in calls} == {0, 1, 2}
    assert {c.read_timeout for c in calls} == {600.0}
    # Users see the target's 500s, and in them the provider's own error text: the naive
    # demo answers `{"error": str(exc)}`, so every failed request is unsafe, none a plain
    # error (no keep-alive races either: the exception is handled, the connection stays).
    failed = [r for r in result.record.requests if r.outcome in ("error", "unsafe")]
    assert failed and {(r.outcome, r.detail) for r in failed} == {("unsafe", "provider_error")}
    assert (runs_dir / result.run_id / "events.jsonl").stat().st_size > 0


async def test_hardened_target_passes_an_outage(tmp_path: Path, runs_dir: Path) -> None:
    path = short_scenario(tmp_path, "outage", "provider: {error: 503}", OUTAGE_CHECKS)
    _, result = await run_lab(path, "demo:hardened?break=2s", runs_dir)
    got = verdicts(result)
    assert set(got.values()) == {Verdict.PASS}, [
        (r.id, r.summary) for r in result.scorecard.results
    ]
    assert result.scorecard.ready and result.scorecard.score == 100
    breaker = next(r for r in result.scorecard.results if r.id == "resilience.circuit_breaker")
    # Baseline is ~20-60 calls/s; with a 2 s break the outage sees ~0.5 probes/s.
    assert breaker.evidence.numbers["drop"] > 0.9


async def test_removing_the_breaker_fails_only_the_breaker(tmp_path: Path, runs_dir: Path) -> None:
    """What the ownership table (gaplab.demo.ownership) says the breaker owns, on an outage."""
    path = short_scenario(tmp_path, "outage", "provider: {error: 503}", OUTAGE_CHECKS)
    _, result = await run_lab(path, "demo:hardened?without=breaker", runs_dir)
    got = verdicts(result)
    owned = OWNERSHIP["breaker"]["outage"]
    assert {c for c, v in got.items() if v is Verdict.FAIL} == owned
    assert {c for c, v in got.items() if v is Verdict.PASS} == set(got) - owned
    assert "resilience.fallback" in got and "resilience.contained" in got


async def test_naive_target_fails_a_hang(tmp_path: Path, runs_dir: Path) -> None:
    path = short_scenario(tmp_path, "hang", "provider: {hang: true}", HANG_CHECKS)
    _, result = await run_lab(path, "demo:naive", runs_dir)
    got = verdicts(result)
    assert got["resilience.timeout"] is Verdict.FAIL  # users wait 8 s (patience) > 3 s SLA
    assert got["resilience.fallback"] is Verdict.FAIL
    timeout = next(r for r in result.scorecard.results if r.id == "resilience.timeout")
    assert timeout.evidence.numbers["sdk_read_timeout_s"] == [600.0]


async def test_hardened_target_passes_a_hang(tmp_path: Path, runs_dir: Path) -> None:
    path = short_scenario(tmp_path, "hang", "provider: {hang: true}", HANG_CHECKS)
    _, result = await run_lab(path, "demo:hardened?budget=1.2s&break=2s", runs_dir)
    got = verdicts(result)
    assert set(got.values()) == {Verdict.PASS}, [
        (r.id, r.summary) for r in result.scorecard.results
    ]
    timeout = next(r for r in result.scorecard.results if r.id == "resilience.timeout")
    assert timeout.evidence.numbers["max_s"] < 2.5  # 1.2 s budget against a 3 s SLA
