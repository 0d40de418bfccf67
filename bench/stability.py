"""Do the bundled scenarios give the same verdicts every time, with margins that do not flip?

Runs each bundled scenario against each demo target N times, as a user would (`lab run
SCENARIO --target TARGET --json FILE`, one subprocess per run, one run at a time unless
--parallel), and prints per scenario × target:
  identical   the share of runs whose verdicts (every check) equal the most common set
  per check   the verdicts seen and the margin nearest to flipping (smallest |margin|;
              negative on the failing side), `!` when borderline (|margin| < 0.15)
then a summary line. Goal: 100 % identical everywhere and no borderline verdict.

    python bench/stability.py [--scenarios outage,rate_limit] [--targets demo:naive]
                              [--runs 3] [--short 0.4] [--parallel 1]

--short F scales every phase by F (and what depends on phase lengths: the recovery
check's `within`, and the hardened demo's breaker `break`), for quick looks; the goal is
stated for full-length runs (F = 1).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from gaplab.checks.base import BORDERLINE
from gaplab.scenario.durations import parse_duration
from gaplab.scenario.library import bundled_scenarios

TARGETS = ("demo:naive", "demo:hardened")
RECOVERY_WITHIN = 10.0  # resilience.recovery's default `within`
HARDENED_BREAK = 5.0  # the hardened demo's default breaker break, seconds


def shortened(path: Path, factor: float, into: Path) -> Path:
    """A copy of the scenario with every phase `factor` times as long."""
    document = yaml.safe_load(path.read_text())
    for phase in document["phases"]:
        phase["for"] = f"{parse_duration(phase['for']) * factor:g}s"
    checks = []
    for check in document.get("checks", []):
        if check == "resilience.recovery":
            check = {"resilience.recovery": {"within": f"{RECOVERY_WITHIN * factor:g}s"}}
        checks.append(check)
    document["checks"] = checks
    copy = into / path.name
    copy.write_text(yaml.safe_dump(document, sort_keys=False))
    return copy


def _target_spec(target: str, factor: float) -> str:
    if factor == 1 or target != "demo:hardened":
        return target
    return f"{target}?break={HARDENED_BREAK * factor:g}s"


def run_once(scenario: Path, target: str, workdir: Path, index: int) -> dict[str, Any]:
    report = workdir / f"{scenario.stem}-{target.replace(':', '_')}-{index}.json"
    started = time.monotonic()
    command = [sys.executable, "-m", "gaplab", "run", str(scenario), "--target", target]
    done = subprocess.run(
        [*command, "--json", str(report), "--runs-dir", str(workdir / "runs")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if not report.exists():
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        return {"exit": done.returncode, "error": " / ".join(tail), "checks": {}}
    document = json.loads(report.read_text())
    return {
        "exit": done.returncode,
        "seconds": time.monotonic() - started,
        "error": document.get("error"),
        "checks": {c["id"]: (c["verdict"], c["evidence"]["margin"]) for c in document["checks"]},
        "lab": document.get("lab"),
    }


def summarise(label: str, runs: list[dict[str, Any]]) -> tuple[bool, list[tuple[float, str]]]:
    """Print one scenario × target; returns (all identical, [(margin, where)])."""
    sets = Counter(tuple(sorted((k, v[0]) for k, v in r["checks"].items())) for r in runs)
    same = sets.most_common(1)[0][1] if sets else 0
    exits = ",".join(str(r["exit"]) for r in runs)
    print(f"{label}: {same}/{len(runs)} identical ({same / len(runs):.0%}), exit codes {exits}")
    margins: list[tuple[float, str]] = []
    for run in runs:
        if run.get("error"):
            print(f"    lab error: {run['error']}")
    check_ids = sorted({k for r in runs for k in r["checks"]})
    for check in check_ids:
        seen = [r["checks"][check] for r in runs if check in r["checks"]]
        verdicts = Counter(v for v, _ in seen)
        known = [m for _, m in seen if m is not None]
        nearest = min(known, key=abs) if known else None
        mark = "!" if nearest is not None and abs(nearest) < BORDERLINE else " "
        if nearest is not None:
            margins.append((nearest, f"{check} in {label}"))
        text = "-" if nearest is None else f"{nearest:+.3f}"
        shown = " ".join(f"{v}×{n}" for v, n in verdicts.most_common())
        print(f"  {mark} {check:<28} {shown:<18} smallest margin {text}")
    lags = [r["lab"]["loop_lag_ms"]["p99"] for r in runs if r.get("lab")]
    if lags:
        print(f"    lab loop lag p99 {max(lags):.1f} ms at most")
    return same == len(runs), margins


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default=",".join(bundled_scenarios()))
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--short", type=float, default=1.0, help="scale phases by this factor")
    parser.add_argument("--parallel", type=int, default=1, help="runs at once (default 1)")
    args = parser.parse_args()
    bundled = bundled_scenarios()
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    unknown = [n for n in names if n not in bundled]
    if unknown:
        known = ", ".join(bundled)
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}; bundled: {known}")
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    with tempfile.TemporaryDirectory(prefix="gaplab-stability-") as tmp:
        workdir = Path(tmp)
        paths = {
            n: bundled[n] if args.short == 1 else shortened(bundled[n], args.short, workdir)
            for n in names
        }
        jobs = [(n, t, i) for n in names for t in targets for i in range(args.runs)]
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=max(1, args.parallel)) as pool:
            results = list(
                pool.map(
                    lambda job: run_once(
                        paths[job[0]], _target_spec(job[1], args.short), workdir, job[2]
                    ),
                    jobs,
                )
            )
        wall = time.monotonic() - started
    stable, margins = 0, []
    for n in names:
        for t in targets:
            runs = [r for (jn, jt, _), r in zip(jobs, results, strict=True) if (jn, jt) == (n, t)]
            identical, found = summarise(f"{n} × {t}", runs)
            stable += identical
            margins.extend(found)
    pairs = len(names) * len(targets)
    borderline = sum(1 for m, _ in margins if abs(m) < BORDERLINE)
    nearest = min(margins, key=lambda m: abs(m[0]), default=None)
    near = "n/a" if nearest is None else f"{nearest[0]:+.3f} ({nearest[1]})"
    print(
        f"summary: {stable}/{pairs} scenario × target pairs with 100 % identical verdicts over "
        f"{args.runs} runs each (phases × {args.short:g}); {borderline} borderline check(s); "
        f"smallest margin {near}; {len(jobs)} runs in {wall:.0f} s"
    )


if __name__ == "__main__":
    main()
