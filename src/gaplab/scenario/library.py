"""Find and load scenarios: a path, or the name of a bundled scenario (`lab run outage`)."""

from __future__ import annotations

from pathlib import Path

from gaplab.checks.registry import validate_checks
from gaplab.errors import InputError
from gaplab.resources import bundled_dir
from gaplab.scenario.loader import load_model
from gaplab.scenario.models import Scenario


def bundled_scenarios() -> dict[str, Path]:
    directory = bundled_dir("scenarios")
    return {path.stem: path for path in sorted(directory.glob("*.yaml"))}


def find_scenario(spec: str) -> Path:
    path = Path(spec)
    if path.exists():
        return path
    bundled = bundled_scenarios()
    name = path.stem if path.suffix in {".yaml", ".yml"} else spec
    if name in bundled and path.parent in (Path("."), Path("scenarios")):
        return bundled[name]
    raise InputError(
        f"scenario {spec!r}: no such file, and no bundled scenario of that name "
        f"(bundled: {', '.join(bundled) or 'none'})"
    )


def load_scenario(spec: str) -> tuple[Scenario, Path]:
    path = find_scenario(spec)
    scenario = load_model(path, Scenario)
    validate_checks(scenario, str(path))
    return scenario, path
