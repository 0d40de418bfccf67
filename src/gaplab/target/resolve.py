"""Turn a `--target` value into a validated `TargetFile`: a bundled demo (`demo:naive`,
`demo:hardened?without=breaker`) or the path of a user's target file.

Placeholders are checked here, so a typo such as `{provider.openai_url}` is an input error
naming the file, not a request the target cannot understand.
"""

from __future__ import annotations

from pathlib import Path

from gaplab.errors import InputError, Problem
from gaplab.scenario.loader import load_model
from gaplab.scenario.target_models import TargetFile
from gaplab.target.jsonpath import compile_path
from gaplab.target.template import REQUEST_NAMES, RUN_NAMES, placeholders


def resolve_target(spec: str, *, relative_to: Path | None = None) -> TargetFile:
    if spec.startswith("demo:"):
        from gaplab.demo.spec import demo_target

        return demo_target(spec)
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
    target = load_model(path, TargetFile)
    check_target(target, str(path))
    return target


def check_target(target: TargetFile, file: str) -> None:
    problems: list[Problem] = []

    def unknown(value: object, allowed: frozenset[str], field: str) -> None:
        for name in sorted(placeholders(value) - allowed):
            problems.append(
                Problem(
                    file,
                    None,
                    None,
                    field,
                    f"unknown placeholder {{{name}}}; known: "
                    + ", ".join(f"{{{n}}}" for n in sorted(allowed)),
                )
            )

    if target.start is not None:
        unknown(target.start.command, RUN_NAMES, "start.command")
        unknown(target.start.env, RUN_NAMES, "start.env")
    request_names = REQUEST_NAMES | RUN_NAMES
    unknown(target.request.url, request_names, "request.url")
    unknown(target.request.json_body, request_names, "request.json")
    unknown(target.request.headers, request_names, "request.headers")
    if "{port}" in target.request.url and target.start is None:
        problems.append(
            Problem(
                file,
                None,
                None,
                "request.url",
                "{port} is only known when the lab starts the target (add start:)",
            )
        )
    for field, path in (
        ("response.answer", target.response.answer),
        ("response.degraded.field", target.response.degraded.field),
    ):
        if path is None:
            continue
        try:
            compile_path(path)
        except ValueError as exc:
            problems.append(Problem(file, None, None, field, str(exc)))
    if problems:
        raise InputError(problems)
