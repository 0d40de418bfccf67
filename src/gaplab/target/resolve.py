"""Turn a `--target` value into a validated `TargetFile`: a bundled demo (`demo:naive`,
`demo:hardened?without=breaker`) or the path of a user's target file.

Placeholders, the start command's quoting and JSON paths are checked here, so a typo such
as `{provider.openai_url}` is an input error naming the file, line and field, not a request
the target cannot understand or a run that fails after it started.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path

from gaplab.errors import InputError, Problem
from gaplab.scenario.loader import PathKey, Position, load_document, problem_at
from gaplab.scenario.target_models import TargetFile
from gaplab.target.jsonpath import compile_path
from gaplab.target.probe_declarations import probe_problems
from gaplab.target.template import REQUEST_NAMES, RUN_NAMES, placeholders


def resolve_target(
    spec: str, *, relative_to: Path | None = None, interface: str = "chat"
) -> TargetFile:
    """`interface` picks a bundled demo's endpoint (the scenario's `interface:`); a target
    file is used as it is."""
    if spec.startswith("demo:"):
        from gaplab.demo.spec import demo_target

        return demo_target(spec, interface)
    path = Path(spec)
    if not path.is_absolute() and relative_to is not None and not path.exists():
        candidate = relative_to / path
        if candidate.exists():
            path = candidate
    if not path.exists():
        raise InputError(
            f"target {spec!r}: no such file, and not a bundled demo "
            "(use demo:naive, demo:hardened or a target YAML file)"
        )
    target, document = load_document(path, TargetFile)
    check_target(target, str(path), document.positions)
    return target


def check_target(
    target: TargetFile, file: str, positions: Mapping[PathKey, Position] | None = None
) -> None:
    """Everything a run would trip over later, found now: unknown placeholders, a start
    command that cannot be split into arguments, JSON paths outside the subset. With the
    file's `positions` (from `load_document`), each problem names its line and column."""
    problems: list[Problem] = []

    def unknown(value: object, allowed: frozenset[str], path: PathKey) -> None:
        for where, text in _strings(value, path):
            for name in sorted(placeholders(text) - allowed):
                known = ", ".join(f"{{{n}}}" for n in sorted(allowed))
                message = f"unknown placeholder {{{name}}}; known: {known}"
                problems.append(problem_at(file, positions, where, message))

    if target.start is not None:
        unknown(target.start.command, RUN_NAMES, ("start", "command"))
        unknown(target.start.env, RUN_NAMES, ("start", "env"))
        ready = target.start.ready
        unknown(ready.http, RUN_NAMES, ("start", "ready", "http"))
        unknown(ready.headers, RUN_NAMES, ("start", "ready", "headers"))
        unknown(ready.json_body, RUN_NAMES, ("start", "ready", "json"))
        problem = _command_problem(target.start.command)
        if problem is not None:
            problems.append(problem_at(file, positions, ("start", "command"), problem))
    request_names = REQUEST_NAMES | RUN_NAMES
    unknown(target.request.url, request_names, ("request", "url"))
    unknown(target.request.json_body, request_names, ("request", "json"))
    unknown(target.request.headers, request_names, ("request", "headers"))
    for index, endpoint in enumerate(target.non_ai_endpoints):
        here: PathKey = ("non_ai_endpoints", index)
        long_form = positions is not None and (*here, "http") in positions
        unknown(endpoint.http, RUN_NAMES, (*here, "http") if long_form else here)
        unknown(endpoint.headers, RUN_NAMES, ("non_ai_endpoints", index, "headers"))
        unknown(endpoint.json_body, RUN_NAMES, ("non_ai_endpoints", index, "json"))
    if "{port}" in target.request.url and target.start is None:
        problems.append(
            problem_at(
                file,
                positions,
                ("request", "url"),
                "{port} is only known when the lab starts the target (add start:)",
            )
        )
    response = target.response
    for path, json_path in (
        (("response", "answer"), response.answer),
        (("response", "degraded", "field"), response.degraded.field),
        (("response", "refusal", "field"), response.refusal.field),
        (("response", "disclosure", "field"), response.disclosure.field),
    ):
        if json_path is None:
            continue
        try:
            compile_path(json_path)
        except ValueError as exc:
            problems.append(problem_at(file, positions, path, str(exc)))
    problems.extend(probe_problems(target, file, positions))
    if problems:
        raise InputError(problems)


def _command_problem(command: str | list[str]) -> str | None:
    """Why the start command cannot run as written, or None. Placeholders are filled with
    ports and URLs, which hold no quotes or spaces, so splitting the template is exact."""
    if isinstance(command, list):
        return None if command else "the start command is empty"
    try:
        argv = shlex.split(command)
    except ValueError as exc:  # "No closing quotation", "No escaped character"
        return f"cannot split into arguments ({str(exc).lower()}): check the quotes"
    return None if argv else "the start command is empty"


def _strings(value: object, path: PathKey) -> Iterator[tuple[PathKey, str]]:
    """Every string inside `value` (keys too), with the key path where it is written."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key, (*path, key))
            yield from _strings(item, (*path, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))
