"""How long does the readiness suite take, what does each scenario cost, and are its
verdicts the same every time?

Runs `lab run readiness --target TARGET` (a real subprocess, as CI runs it) N times per
target, one suite at a time, and prints:
  per run      wall time of the whole suite, its exit code, headline and distinct items
  per scenario wall and CPU seconds (the scenario's process and its target), mean of runs
  stability    whether every item's verdict was identical across the runs, and the items
               that were borderline (|margin| < 0.15) in any run
Goal (issue 13): <= 5 min wall against demo:hardened (aim 3), identical verdicts across 3
runs for both demos, no borderline verdict. Say how busy the machine was (`uptime`).

    python bench/suite.py [--targets demo:hardened,demo:naive] [--runs 3]
                          [--concurrency N] [--time-scale F] [--suite readiness]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any


def run_suite(suite: str, target: str, runs_dir: Path, extra: list[str]) -> dict[str, Any]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "gaplab", "run", suite, "--target", target,
         "--runs-dir", str(runs_dir), *extra],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.monotonic() - started
    folders = sorted(runs_dir.iterdir())
    if not folders:
        raise SystemExit(f"no suite folder in {runs_dir}:\n{done.stdout}\n{done.stderr}")
    report = json.loads((folders[-1] / "report.json").read_text(encoding="utf-8"))
    report["_wall"], report["_code"] = wall, done.returncode
    return report


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", default="demo:hardened,demo:naive")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--suite", default="readiness")
    parser.add_argument("--concurrency", type=int)
    parser.add_argument("--time-scale", type=float)
    args = parser.parse_args()
    extra = []
    if args.concurrency:
        extra += ["--concurrency", str(args.concurrency)]
    if args.time_scale:
        extra += ["--time-scale", str(args.time_scale)]
    print(f"load average before: {loadavg()} ({os.cpu_count()} cores)")
    ok = True
    for target in args.targets.split(","):
        reports = []
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(args.runs):
                report = run_suite(args.suite, target, Path(tmp) / f"run{n}", extra)
                reports.append(report)
                print(
                    f"{target} run {n + 1}: {report['_wall']:.1f} s wall, exit {report['_code']}, "
                    f"{report['distinct_items']} items, load {loadavg()}: "
                    f"{report['verdict']['headline']}"
                )
        walls: dict[str, list[float]] = defaultdict(list)
        cpus: dict[str, list[float]] = defaultdict(list)
        for report in reports:
            for s in report["scenarios"]:
                walls[s["name"]].append(s["wall_s"])
                cpus[s["name"]].append(s["cpu_s"])
        print(f"  {'scenario':<22} {'wall s':>8} {'cpu s':>8}")
        for name in sorted(walls, key=lambda n: -sum(walls[n])):
            wall, cpu = sum(walls[name]) / len(walls[name]), sum(cpus[name]) / len(cpus[name])
            print(f"  {name:<22} {wall:>8.1f} {cpu:>8.1f}")
        total_cpu = sum(sum(v) for v in cpus.values()) / len(reports)
        mean_wall = sum(r["_wall"] for r in reports) / len(reports)
        print(f"  suite: {mean_wall:.1f} s wall, {total_cpu:.1f} s CPU (mean of {len(reports)})")
        # Per area, the measured and probed items that failed in the last run (issue 13:
        # naive must fail an item in every area that has measured items).
        areas: dict[str, list[str]] = defaultdict(list)
        for item in reports[-1]["items"]:
            if item["kind"] != "attested":
                areas.setdefault(item["area"], [])
                if item["verdict"] == "fail":
                    areas[item["area"]].append(item["id"])
        for area, failed in sorted(areas.items()):
            print(f"  {area:<14} measured/probed failing: {len(failed)} {', '.join(failed[:4])}")
        verdicts = [{i["id"]: i["verdict"] for i in r["items"]} for r in reports]
        per_scenario = [
            {(i["id"], e["scenario"]): e["verdict"] for i in r["items"] for e in i["scenarios"]}
            for r in reports
        ]
        same = all(v == verdicts[0] for v in verdicts)
        same_each = all(v == per_scenario[0] for v in per_scenario)
        codes = {r["_code"] for r in reports}
        borderline = sorted(
            {
                f"{i['id']}@{e['scenario']}"
                for r in reports
                for i in r["items"]
                for e in i["scenarios"]
                if e.get("borderline")
            }
        )
        print(
            f"  verdicts identical across {len(reports)} runs: {'yes' if same else 'NO'} "
            f"(per scenario: {'yes' if same_each else 'NO'}); exit codes {sorted(codes)}; "
            f"borderline: {', '.join(borderline) or 'none'}"
        )
        if not same:
            for item in verdicts[0]:
                seen = [v.get(item) for v in verdicts]
                if len(set(seen)) > 1:
                    print(f"    {item}: {seen}")
        ok = ok and same and same_each and not borderline and len(codes) == 1
    print(f"load average after: {loadavg()}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
