"""`lab compare RUN_A RUN_B`: what changed between two runs (naive against hardened in a
workshop, before against after a change in a team).

The comparison reads each run's `report.json`, or rebuilds the report from the journal
when it is missing, and holds: each run's headline and score; every item whose verdict
flipped, appeared or disappeared, with the evidence numbers that decided it side by side;
and the deltas of the figures that decide verdicts (user p95, calls per request, upstream
rate, cost per request, unsafe answers, ok and error rates), over the run and per phase
present in both. Shown on the console, or written as Markdown or HTML (templates `compare.*.j2`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from gaplab.checks.scoring import DEFAULT_FAIL_UNDER
from gaplab.errors import InputError
from gaplab.report import figures
from gaplab.report.model import verdict_headline

_RANK = {"fail": 0, "warn": 1, "pass": 2}


def load_run(path: Path, *, fail_under: float = DEFAULT_FAIL_UNDER) -> dict[str, Any]:
    """A run folder's report (`report.json`, else rebuilt from `events.jsonl`), or a report
    JSON file given directly."""
    if path.is_file():
        return _read_json(path)
    if (path / "report.json").is_file():
        return _read_json(path / "report.json")
    from gaplab.report.rebuild import rebuild_report

    return rebuild_report(path, fail_under=fail_under)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not a readable report: {exc}") from None
    if not isinstance(data, dict) or "checks" not in data or "verdict" not in data:
        raise InputError(f"{path}: not a gaplab report (no checks and verdict)")
    return data


@dataclass(frozen=True)
class Figure:
    """One figure of both runs; `better` is "lower" or "higher"."""

    name: str
    scope: str  # "run" or a phase name
    a: float | None
    b: float | None
    kind: str  # duration | ratio | rate | usd | count | share
    better: str

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def direction(self) -> str:
        """`better`, `worse` or `same` for run B against run A."""
        delta = self.delta
        if delta is None or self.text(self.a) == self.text(self.b):
            return "same"  # equal as people read them: no "better" for a rounding error
        return "better" if (delta < 0) == (self.better == "lower") else "worse"

    def text(self, value: float | None) -> str:
        if value is None:
            return "n/a"
        if self.kind == "rate":
            return f"{figures.number(float(value))}/s"
        formats = {
            "duration": figures.duration,
            "ratio": figures.ratio,
            "usd": figures.usd,
            "count": figures.number,
            "share": figures.share,
        }
        return formats[self.kind](value)

    def delta_text(self) -> str:
        delta = self.delta
        if delta is None:
            return "n/a"
        sign = "±" if self.direction == "same" else "+" if delta > 0 else "−"
        text = sign + self.text(abs(delta))
        if self.kind == "share":  # a share's difference is in percentage points
            text = text.removesuffix("%") + " pt"
        return text


def _ok_share(outcomes: dict[str, int]) -> float | None:
    total = sum(outcomes.values())
    return outcomes.get("ok", 0) / total if total else None


def _phase_rate(phase: dict[str, Any]) -> float | None:
    start, end = phase.get("started_s"), phase.get("ended_s")
    if start is None or end is None or end <= start:
        return None
    return float(phase["provider_calls"]) / float(end - start)


def _cost(report: dict[str, Any], phase: str | None = None) -> dict[str, Any] | None:
    cost = report.get("cost")
    if not cost:
        return None
    stats = cost["phases"].get(phase) if phase else cost["per_request"]
    return stats if stats and stats.get("requests") else None


def _error_share(outcomes: dict[str, int]) -> float | None:
    total = sum(outcomes.values())
    return (outcomes.get("error", 0) + outcomes.get("unsafe", 0)) / total if total else None


def _figures_of(report: dict[str, Any], phase: dict[str, Any] | None) -> dict[str, Any]:
    if phase is None:
        totals = report["totals"]
        requests = sum(totals["outcomes"].values())
        cost = _cost(report)
        if cost is None and totals.get("cost_usd") and requests:  # a report without `cost`
            cost = {"mean_usd": totals["cost_usd"] / requests, "p95_usd": None}
        return {
            "user p95": totals["latency"]["p95_s"],
            "calls per request": totals["provider_calls"] / requests if requests else None,
            "upstream rate": (
                totals["provider_calls"] / totals["duration_s"] if totals["duration_s"] else None
            ),
            "cost per request (mean)": cost["mean_usd"] if cost else None,
            "cost per request (p95)": cost["p95_usd"] if cost else None,
            "unsafe answers": totals["outcomes"].get("unsafe", 0),
            "ok rate": _ok_share(totals["outcomes"]),
            "error rate": _error_share(totals["outcomes"]),
        }
    cost = _cost(report, phase["name"])
    return {
        "user p95": phase["latency"]["p95_s"],
        "calls per request": phase["amplification"],
        "upstream rate": _phase_rate(phase),
        "cost per request (mean)": cost["mean_usd"] if cost else None,
        "cost per request (p95)": None,
        "unsafe answers": phase["outcomes"].get("unsafe", 0),
        "ok rate": _ok_share(phase["outcomes"]),
        "error rate": _error_share(phase["outcomes"]),
    }


_KINDS = {
    "user p95": ("duration", "lower"),
    "calls per request": ("ratio", "lower"),
    "upstream rate": ("rate", "lower"),
    "cost per request (mean)": ("usd", "lower"),
    "cost per request (p95)": ("usd", "lower"),
    "unsafe answers": ("count", "lower"),
    "ok rate": ("share", "higher"),
    "error rate": ("share", "lower"),  # errors and unsafe answers: a fallback is not an error
}


def compare_figures(a: dict[str, Any], b: dict[str, Any]) -> list[Figure]:
    """The deciding figures over the run, then per phase that both runs have."""
    scopes: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = [("run", None, None)]
    phases_b = {p["name"]: p for p in b["phases"]}
    scopes += [(p["name"], p, phases_b[p["name"]]) for p in a["phases"] if p["name"] in phases_b]
    out = []
    for scope, phase_a, phase_b in scopes:
        fa, fb = _figures_of(a, phase_a), _figures_of(b, phase_b)
        for name, (kind, better) in _KINDS.items():
            if fa[name] is None and fb[name] is None:
                continue
            out.append(Figure(name, scope, fa[name], fb[name], kind, better))
    return out


def _change(va: str | None, vb: str | None) -> str:
    if va is None:
        return "new"
    if vb is None:
        return "removed"
    if va == vb:
        return "same"
    if va in _RANK and vb in _RANK:
        return "better" if _RANK[vb] > _RANK[va] else "worse"
    return "changed"  # to or from not_run


def _numbers(ca: dict[str, Any], cb: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The evidence numbers of an item in both runs: (label, A, B), those that differ."""
    na, nb = ca["evidence"]["numbers"], cb["evidence"]["numbers"]
    rows = []
    for key in [*na, *(k for k in nb if k not in na)]:
        if na.get(key) != nb.get(key):
            rows.append(
                (
                    figures.label(key),
                    figures.value(key, na[key]) if key in na else "-",
                    figures.value(key, nb[key]) if key in nb else "-",
                )
            )
    return rows


def compare_checks(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of either run: its verdict in each, how it changed, and for a flip the
    evidence numbers that differ."""
    by_a = {c["id"]: c for c in a["checks"]}
    by_b = {c["id"]: c for c in b["checks"]}
    ids = [*by_a, *(i for i in by_b if i not in by_a)]
    rows = []
    for check_id in ids:
        ca, cb = by_a.get(check_id), by_b.get(check_id)
        change = _change(ca and ca["verdict"], cb and cb["verdict"])
        rows.append(
            {
                "id": check_id,
                "title": (ca or cb or {}).get("title", ""),
                "critical": bool((ca or cb or {}).get("critical")),
                "a": ca["verdict"] if ca else None,
                "b": cb["verdict"] if cb else None,
                "change": change,
                "summary_a": ca["summary"] if ca else "",
                "summary_b": cb["summary"] if cb else "",
                "numbers": _numbers(ca, cb) if ca and cb and change != "same" else [],
            }
        )
    return rows


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    checks = compare_checks(a, b)
    return {
        "a": {"report": a, "headline": verdict_headline(a), "score": a["verdict"]["score"]},
        "b": {"report": b, "headline": verdict_headline(b), "score": b["verdict"]["score"]},
        "changed": [c for c in checks if c["change"] != "same"],
        "unchanged": [c for c in checks if c["change"] == "same"],
        "figures": compare_figures(a, b),
    }


def render_compare(comparison: dict[str, Any], fmt: str) -> str:
    """`fmt`: "md" or "html"."""
    from gaplab.report.templating import html_environment, markdown_environment

    env = markdown_environment() if fmt == "md" else html_environment()
    return env.get_template(f"compare.{fmt}.j2").render(c=comparison)


def print_compare(comparison: dict[str, Any]) -> None:
    from rich.console import Console

    from gaplab.report.compare_console import compare_renderable

    Console().print(compare_renderable(comparison))


@click.command(name="compare")
@click.argument("run_a", type=click.Path(path_type=Path, exists=True))
@click.argument("run_b", type=click.Path(path_type=Path, exists=True))
@click.option("--markdown", "markdown_path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--html", "html_path", type=click.Path(path_type=Path, dir_okay=False))
def compare_command(
    run_a: Path, run_b: Path, markdown_path: Path | None, html_path: Path | None
) -> None:
    """What changed between two runs (run folders, or report.json files): flipped verdicts,
    and the figures that decided them."""
    comparison = compare(load_run(run_a), load_run(run_b))
    print_compare(comparison)
    for path, fmt in ((markdown_path, "md"), (html_path, "html")):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render_compare(comparison, fmt), encoding="utf-8")
