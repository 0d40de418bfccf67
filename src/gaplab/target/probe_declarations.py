"""Load-time checks of the probed-item declarations (`health`, `metrics`, `kill_switch`,
`write`, `enrichment`): unknown placeholders and JSON paths outside the subset, located at
their line and column like the rest of `check_target`.

Placeholders: every declaration knows the run's names (`{port}`, `{provider.*}`); `write`
also `{input}` (the text the lab writes) and `{request_id}`; `enrichment` `{item}` (the id
read from the write's answer).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from gaplab.errors import Problem
from gaplab.scenario.loader import PathKey, Position, problem_at
from gaplab.scenario.probe_models import ProbeRequest
from gaplab.scenario.target_models import TargetFile
from gaplab.target.jsonpath import compile_path
from gaplab.target.template import RUN_NAMES, placeholders

WRITE_NAMES = RUN_NAMES | {"input", "request_id"}
ENRICHMENT_NAMES = RUN_NAMES | {"item"}


def _requests(target: TargetFile) -> Iterator[tuple[PathKey, ProbeRequest, frozenset[str]]]:
    if target.health is not None:
        yield ("health",), target.health, RUN_NAMES
    if target.metrics is not None:
        yield ("metrics",), target.metrics, RUN_NAMES
    if target.kill_switch is not None:
        yield ("kill_switch", "off"), target.kill_switch.off, RUN_NAMES
        yield ("kill_switch", "on"), target.kill_switch.on, RUN_NAMES
    if target.write is not None:
        yield ("write",), target.write, WRITE_NAMES
    if target.enrichment is not None:
        yield ("enrichment",), target.enrichment, ENRICHMENT_NAMES


def _strings(value: object, path: PathKey) -> Iterator[tuple[PathKey, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key, (*path, key))
            yield from _strings(item, (*path, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def probe_problems(
    target: TargetFile, file: str, positions: Mapping[PathKey, Position] | None
) -> list[Problem]:
    problems: list[Problem] = []
    for base, request, allowed in _requests(target):
        parts: list[tuple[PathKey, object]] = [
            ((*base, "http"), request.http),
            ((*base, "headers"), request.headers),
            ((*base, "json"), request.json_body),
        ]
        for path, value in parts:
            for where, text in _strings(value, path):
                for name in sorted(placeholders(text) - allowed):
                    known = ", ".join(f"{{{n}}}" for n in sorted(allowed))
                    message = f"unknown placeholder {{{name}}}; known: {known}"
                    problems.append(problem_at(file, positions, where, message))
    paths: list[tuple[PathKey, str | None]] = []
    if target.health is not None:
        paths.append((("health", "degraded", "field"), target.health.degraded.field))
    if target.enrichment is not None:
        paths.append((("enrichment", "item"), target.enrichment.item))
        if target.write is None:
            message = "enrichment needs `write:` too (the lab creates the item it re-enriches)"
            problems.append(problem_at(file, positions, ("enrichment",), message))
    for path, json_path in paths:
        if json_path is None:
            continue
        try:
            compile_path(json_path)
        except ValueError as exc:
            problems.append(problem_at(file, positions, path, str(exc)))
    return problems
