"""The suite's combined report: one document with the merged scorecard (per item its worst
verdict, evidence kind and every scenario's evidence), per-area and overall scores, the
attested column, and each scenario's own report; written as JSON (always, to the suite
folder's report.json), JUnit (a test case per item per scenario, the attested items as
suite `gaplab.attestation`), Markdown and HTML (the merged scorecard, then a section per
scenario through the run report's renderers)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gaplab.checks.attested.answers import attested_results
from gaplab.checks.base import CheckResult
from gaplab.checks.scoring import Scorecard
from gaplab.engine.secrets import write_private_text
from gaplab.report.model import verdict_headline
from gaplab.report.runs import PastRun
from gaplab.report.templating import markdown_text
from gaplab.suite.merge import MergedItem, merge_items, suite_scorecard
from gaplab.suite.runner import ScenarioOutcome, SuiteRun

SCHEMA_VERSION = 1


def is_suite_report(report: dict[str, Any]) -> bool:
    return report.get("kind") == "suite" and "items" in report


def read_suite_report(path: Path) -> dict[str, Any] | None:
    """The combined report of a suite folder (or its report.json file), else None (a run
    folder, or no readable report)."""
    file = path / "report.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) and is_suite_report(data) else None


def find_suite_runs(runs_dir: Path) -> list[PastRun]:
    """The suite folders directly under `runs_dir` (their report.json is a combined
    report), as rows of the past runs; their time is when that report was written."""
    if not runs_dir.is_dir():
        return []
    found = []
    for path in runs_dir.iterdir():
        if not path.is_dir() or path.is_symlink():
            continue
        if (document := read_suite_report(path)) is None:
            continue
        verdict = document["verdict"]
        word = "READY" if verdict["ready"] else "NOT READY"
        if not verdict["complete"]:
            word = "INCOMPLETE"  # as a run's row says it
        found.append(
            PastRun(
                path,
                (path / "report.json").stat().st_mtime,
                f"suite {document['suite']}",
                str(document["target"]),
                word,
                verdict["score"],
                str(document["status"]),
            )
        )
    return found


def read_reports(outcomes: Sequence[ScenarioOutcome]) -> list[dict[str, Any]]:
    """The reports the scenarios wrote (a scenario that never started, or died before its
    report, has none)."""
    reports = []
    for outcome in outcomes:
        if outcome.exit_code is None or not outcome.report_path.exists():
            continue
        try:
            reports.append(json.loads(outcome.report_path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return reports


def build_suite_report(
    run: SuiteRun, outcomes: Sequence[ScenarioOutcome], *, interrupted: bool
) -> dict[str, Any]:
    reports = read_reports(outcomes)
    attested = attested_results(
        run.loaded.attestation, source=str(run.loaded.attestation_path or "no attestation file")
    )
    items = merge_items(reports, attested)
    card = suite_scorecard(reports, items, fail_under=run.suite.fail_under, planned=len(outcomes))
    by_name = {r["scenario"]["name"]: r for r in reports}
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "suite",
        "suite": run.suite.suite,
        "title": run.suite.title or run.suite.suite,
        "run_id": run.run_dir.name,
        "status": "interrupted" if interrupted else "completed",
        "partial": interrupted or not card.complete,
        "target": run.loaded.entries[0].target_label if run.loaded.entries else "",
        "attestation": str(run.loaded.attestation_path) if run.loaded.attestation_path else None,
        "time_scale": run.time_scale,
        "concurrency": run.concurrency,
        "verdict": _verdict(card),
        "distinct_items": len({i.result.id for i in items}),
        "items": [_item(i) for i in items],
        "scenarios": [
            {
                "name": o.name,
                "target": o.target,
                "exit_code": o.exit_code,
                "wall_s": round(o.wall_s, 3),
                "cpu_s": round(o.cpu_s, 3),
                "run_id": by_name.get(o.name, {}).get("run_id"),
                "report": by_name.get(o.name),
            }
            for o in outcomes
        ],
    }
    document["verdict"]["headline"] = verdict_headline(document)
    return document


def _verdict(card: Scorecard) -> dict[str, Any]:
    return {
        "ready": card.ready,
        "complete": card.complete,
        "stopped": card.stopped,
        "missed_faults": list(card.missed_faults),
        "borderline": [r.id for r in card.results if r.borderline],
        "score": card.score,
        "fail_under": card.fail_under,
        "critical_failures": list(card.critical_failures),
        "counts": card.counts,
        "areas": card.areas,
        "attested_score": card.attested_score,
        "attested_areas": card.attested_areas,
    }


def _item(item: MergedItem) -> dict[str, Any]:
    result = item.result
    return {
        "id": result.id,
        "title": result.title,
        "area": result.area,
        "critical": result.critical,
        "verdict": result.verdict.value,
        "kind": result.evidence.kind.value,
        "summary": result.summary,
        "why": result.why,
        "borderline": result.borderline,
        "decided_by": item.scenario,
        "scenarios": list(item.per_scenario),
    }


def attestation_report(document: dict[str, Any], attested: Sequence[CheckResult]) -> dict[str, Any]:
    """The attested items as a report of their own (for JUnit: suite gaplab.attestation)."""
    from gaplab.report.model import _check

    verdict = document["verdict"]
    checks = [_check(r) for r in attested]
    counts = {
        v: sum(1 for c in checks if c["verdict"] == v) for v in ("pass", "fail", "warn", "not_run")
    }
    return {
        "run_id": document["run_id"],
        "status": "completed",
        "scenario": {"name": "attestation", "title": "Attested items"},
        "target": document["target"],
        "seed": 0,
        "totals": {"duration_s": 0.0},
        "checks": checks,
        "verdict": {
            "ready": not counts["fail"] and verdict["attested_score"] is not None,
            "complete": True,
            "score": verdict["attested_score"],
            "fail_under": verdict["fail_under"],
            "critical_failures": [],
            "missed_faults": [],
            "counts": counts,
        },
    }


def scenario_reports(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s["report"] for s in document["scenarios"] if s["report"] is not None]


def write_suite_files(
    document: dict[str, Any],
    attested: Sequence[CheckResult],
    *,
    run_dir: Path,
    json_path: Path | None = None,
    junit_path: Path | None = None,
    markdown_path: Path | None = None,
    html_path: Path | None = None,
) -> Path:
    """report.json in the suite folder, and the files asked for; returns report.json."""
    text = json.dumps(document, indent=2) + "\n"
    report_path = run_dir / "report.json"
    write_private_text(report_path, text)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(text, encoding="utf-8")
    reports = scenario_reports(document)
    if junit_path is not None:
        from gaplab.report.junit import write_junit

        write_junit([*reports, attestation_report(document, attested)], junit_path)
    if markdown_path is not None:
        from gaplab.report.markdown import render_markdown

        markdown_path.parent.mkdir(parents=True, exist_ok=True)
        markdown_path.write_text(
            suite_markdown(document) + "\n" + render_markdown(reports), encoding="utf-8"
        )
    if html_path is not None:
        from gaplab.report.html import render_html

        html_path.parent.mkdir(parents=True, exist_ok=True)
        title = f"gaplab: {document['title']} ({len(reports)} scenarios)"
        html_path.write_text(render_html(reports, title=title, suite=document), encoding="utf-8")
    return report_path


ICONS = {"pass": "✅", "fail": "❌", "warn": "⚠️", "not_run": "➖"}


def suite_markdown(document: dict[str, Any]) -> str:
    """The merged scorecard in GitHub Markdown: the headline, the area scores (measured
    and attested columns), then every item with its verdict, kind and deciding scenario."""
    verdict = document["verdict"]
    ready = verdict["ready"]
    icon = "✅" if ready else "➖" if not verdict["complete"] else "❌"
    esc = markdown_text
    lines = [
        f"# {icon} {esc(verdict['headline'])}",
        "",
        f"{esc(document['title'])}: suite {esc(document['suite'])}, "
        f"{len(document['scenarios'])} scenarios against {esc(document['target'])}, "
        f"{document['distinct_items']} items, run {esc(document['run_id'])}",
        "",
        "| area | measured and probed | attested |",
        "|---|---:|---:|",
    ]
    attested = verdict["attested_areas"] or {}
    for area in dict.fromkeys([*verdict["areas"], *attested]):
        lines.append(
            f"| {esc(area)} | {_pct(verdict['areas'].get(area))} | {_pct(attested.get(area))} |"
        )
    lines += [
        f"| **overall** | **{_pct(verdict['score'])}** | **{_pct(verdict['attested_score'])}** |",
        "",
        "| verdict | item | kind | scenario | evidence |",
        "|---|---|---|---|---|",
    ]
    for item in document["items"]:
        star = " ★" if item["critical"] else ""
        lines.append(
            f"| {ICONS[item['verdict']]} {item['verdict']} | {esc(item['id'])}{star} | "
            f"{item['kind']} | {esc(item['decided_by'])} | {esc(item['summary'])} |"
        )
    return "\n".join(lines) + "\n"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}%"
