"""A real run writes every report file (`--junit`, `--markdown`, `--html`), and `lab report`
rebuilds from its journal the same series, examples and cost the run reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xmlschema

from gaplab.headless import finish_run
from gaplab.report.rebuild import rebuild_report

from .conftest import run_lab, short_scenario

SCHEMA = Path(__file__).parents[1] / "data" / "junit.xsd"
pytestmark = pytest.mark.e2e


@pytest.mark.timeout(120)
async def test_a_naive_outage_run_writes_every_report(tmp_path: Path, runs_dir: Path) -> None:
    path = short_scenario(
        tmp_path, "outage", "provider: {error: 503}", "[resilience.fallback, resilience.recovery]"
    )
    run, result = await run_lab(path, "demo:naive", runs_dir)
    files = {kind: tmp_path / f"report.{kind}" for kind in ("xml", "md", "html")}
    finished = finish_run(
        run, result, json_path=None, junit_path=files["xml"], markdown_path=files["md"],
        html_path=files["html"],
    )  # fmt: skip
    assert finished.problem is None
    report = finished.report
    assert report["verdict"]["headline"].startswith("NOT READY")

    fallback = next(c for c in report["checks"] if c["id"] == "resilience.fallback")
    assert fallback["verdict"] == "fail" and fallback["example_requests"]
    example = fallback["example_requests"][0]
    # The naive demo passes the provider's error text on: unsafe, not just an error.
    assert example["status"] == 500 and example["outcome"] == "unsafe"
    # The naive target's SDK retries twice: three 503s behind one user's 500.
    assert [c["status"] for c in example["calls"]] == [503, 503, 503]
    assert [c["retry_count"] for c in example["calls"]] == [0, 1, 2]
    assert sum(report["series"]["upstream_calls"]) == report["totals"]["provider_calls"]
    assert report["cost"]["per_request"]["requests"] == sum(report["totals"]["outcomes"].values())

    html = files["html"].read_text()
    assert html.count("<svg ") == 4 and len(html.encode()) < 1_000_000
    assert files["md"].read_text().startswith("## ❌ " + report["verdict"]["headline"][:9])
    xmlschema.XMLSchema(SCHEMA).validate(files["xml"])

    rebuilt = rebuild_report(result.run_dir, fail_under=80)
    assert rebuilt["series"] == report["series"] and rebuilt["cost"] == report["cost"]
    assert [c["example_requests"] for c in rebuilt["checks"]] == [
        c["example_requests"] for c in report["checks"]
    ]
    on_disk = json.loads((result.run_dir / "report.json").read_text())
    assert on_disk["series"] == report["series"]
