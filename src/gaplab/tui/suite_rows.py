"""What the suite screen shows, Textual-free: each scenario's state (waiting, running with
its elapsed and expected seconds, done with its exit code, headline and score), the
overall line ("12 of 34 done · 4 running · about 2:10 left", from the planned durations
`SuiteRun.snapshot()` already has), and the suite's combined report as a scorecard.

The merged scorecard reuses the run scorecard (`ScorecardScreen`): each merged item
becomes a check dict of the shape a run report has, with the deciding scenario's whole
check (why it matters, evidence, example requests) where there is one, plus its kind and
deciding scenario, so the screen and the suite's report.json cannot disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gaplab.suite.runner import SuiteProgress, SuiteRun

HEADLINE_WORDS = ("INCOMPLETE", "NO VERDICT", "NOT READY", "READY")


def clock(seconds: float) -> str:
    """`2:10`, `0:04`, `1:02:03`: the form a countdown is read in."""
    minutes, secs = divmod(max(0, round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def headline_word(headline: str) -> str:
    """READY / NOT READY / INCOMPLETE / NO VERDICT, the first words of a headline."""
    for word in HEADLINE_WORDS:
        if headline.startswith(word):
            return word
    return headline.split("  ")[0] or "no report"


@dataclass(frozen=True)
class ScenarioResult:
    """A finished scenario, as its report says (no report: a lab error or a crash)."""

    exit_code: int | None
    headline: str  # the report's headline, or why there is none
    score: float | None
    run_folder: Path | None  # its own run folder, inside the suite folder

    @property
    def word(self) -> str:
        return headline_word(self.headline) if self.run_folder is not None else "no report"


def read_result(run: SuiteRun, name: str, exit_code: int | None) -> ScenarioResult:
    """Read the report the scenario wrote (`<suite folder>/<name>.report.json`)."""
    path = run.run_dir / f"{name}.report.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        verdict = report["verdict"]
        folder = run.run_dir / report["run_id"]
        return ScenarioResult(exit_code, verdict["headline"], verdict["score"], folder)
    except (OSError, ValueError, KeyError, TypeError):
        return ScenarioResult(exit_code, f"no report: see {name}.log", None, None)


def overall_line(progress: SuiteProgress, *, ended: bool = False) -> str:
    """`12 of 34 done · 4 running · about 2:10 left`; once ended, how long it took."""
    done = f"{len(progress.done)} of {progress.total} done"
    if ended:
        stopped = " · stopped" if progress.interrupted else ""
        return f"{done}{stopped} · took {clock(progress.elapsed_s)}"
    if progress.interrupted:
        return f"{done} · stopping {len(progress.running)} running · none started any more"
    return (
        f"{done} · {len(progress.running)} running · {progress.left} waiting · "
        f"{clock(progress.elapsed_s)} elapsed · about {clock(progress.eta_s)} left"
    )


def merged_checks(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The suite's merged items as run-report checks (see the module docstring)."""
    own: dict[tuple[str, str], dict[str, Any]] = {}
    for scenario in document["scenarios"]:
        report = scenario.get("report") or {}
        for check in report.get("checks") or ():
            own[(scenario["name"], check["id"])] = check
    checks = []
    for item in document["items"]:
        deciding = own.get((item["decided_by"], item["id"]))
        per = item["scenarios"]
        evidence = deciding["evidence"] if deciding else (per[0]["evidence"] if per else {})
        check = {
            **(deciding or {}),
            "id": item["id"],
            "title": item["title"],
            "area": item["area"],
            "critical": item["critical"],
            "verdict": item["verdict"],
            "summary": item["summary"],
            "why": (deciding or {}).get("why") or item.get("why") or "",
            "borderline": item["borderline"],
            "evidence": {"numbers": {}, **evidence, "kind": item["kind"]},
            "kind": item["kind"],
            "decided_by": item["decided_by"],
            "scenarios": per,
        }
        checks.append(check)
    return checks


def scenario_folder(document: dict[str, Any], suite_folder: Path, name: str) -> Path | None:
    """The run folder of the suite's scenario `name` (None if it wrote no report)."""
    for scenario in document["scenarios"]:
        if scenario["name"] == name and scenario.get("run_id"):
            return suite_folder / str(scenario["run_id"])
    return None
