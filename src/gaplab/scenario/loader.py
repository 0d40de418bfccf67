"""Load YAML files into strict models, reporting problems as `file:line:column: field: what`.

`gaplab.scenario.yaml_reader` turns a file into plain data and the position of every key
path; here pydantic's error locations are translated through those positions, so every
problem names the file, line, column and field. Nothing here raises anything but
`InputError` for a bad file. Top-level keys that start with `x-` are ignored by every
model: they are where shared anchors live (for merge keys).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gaplab.errors import InputError, Problem
from gaplab.scenario.yaml_reader import PathKey, Position, dotted, parse_yaml, read_text

__all__ = [
    "Document",
    "PathKey",
    "Position",
    "load_document",
    "load_model",
    "parse_yaml",
    "problem_at",
    "pydantic_errors",
    "read_document",
    "read_text",
    "validate_text",
    "validation_problems",
]

Model = TypeVar("Model", bound=BaseModel)


def _locate(loc: tuple[int | str, ...], positions: Mapping[PathKey, Position]) -> Position | None:
    path: PathKey = tuple(loc)
    while True:
        if path in positions:
            return positions[path]
        if not path:
            return None
        path = path[:-1]


def problem_at(
    file: str,
    positions: Mapping[PathKey, Position] | None,
    path: PathKey,
    message: str,
    *,
    field: str | None = None,
) -> Problem:
    """A problem at `path` in a parsed file (`checks[1].within`), located at the nearest
    position the file has for it; without positions, only the file and field are named.
    `field` overrides how the field is named (default: `path` written out)."""
    position = _locate(path, positions) if positions else None
    return Problem(
        file,
        position[0] if position else None,
        position[1] if position else None,
        dotted(path) if field is None else field,
        message,
    )


def pydantic_errors(exc: ValidationError) -> list[tuple[PathKey, str]]:
    """Pydantic's errors as (location in the data, message a user can act on)."""
    errors: list[tuple[PathKey, str]] = []
    raw = exc.errors(include_url=False)
    # Drop pydantic's internal steps (union branch names, function-after markers).
    locs = [
        tuple(
            p
            for p in error["loc"]
            if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))
        )
        for error in raw
    ]
    for error, loc in zip(raw, locs, strict=True):
        # A list whose only item is invalid is also "too short": say only what is wrong.
        if error["type"] == "too_short" and any(
            len(other) > len(loc) and other[: len(loc)] == loc for other in locs
        ):
            continue
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see docs/scenarios.md)"
        elif error["type"] == "missing":
            message = "required field is missing"
        errors.append((loc, message.removeprefix("Value error, ")))
    return errors


def validation_problems(
    exc: ValidationError, file: str, positions: Mapping[PathKey, Position] | None
) -> list[Problem]:
    return [problem_at(file, positions, loc, message) for loc, message in pydantic_errors(exc)]


def _is_extension(key: object) -> bool:
    return isinstance(key, str) and key.startswith("x-")


@dataclass(frozen=True)
class Document:
    """A parsed YAML file: its plain data and the position of every key path in it."""

    file: str
    data: Any
    positions: dict[PathKey, Position]

    def validate(self, model: type[Model]) -> Model:
        if not isinstance(self.data, dict):
            raise InputError(
                Problem(self.file, 1, 1, "", "expected a mapping of fields at the top level")
            )
        # Top-level `x-...` keys are the user's own (a place to define anchors for merge
        # keys, as in Docker Compose files); the models never see them.
        data = {k: v for k, v in self.data.items() if not _is_extension(k)}
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise InputError(validation_problems(exc, self.file, self.positions)) from None


def read_document(path: Path) -> Document:
    """Read and parse `path`; every failure is an `InputError`."""
    file = str(path)
    data, positions = parse_yaml(read_text(path), file)
    return Document(file, data, positions)


def load_document(path: Path, model: type[Model]) -> tuple[Model, Document]:
    """`path` validated as `model`, and the document (for locating later checks)."""
    document = read_document(path)
    return document.validate(model), document


def load_model(path: Path, model: type[Model]) -> Model:
    """Read `path` and validate it as `model`; every failure is an `InputError`."""
    return load_document(path, model)[0]


def validate_text(text: str, file: str, model: type[Model]) -> Model:
    data, positions = parse_yaml(text, file)
    return Document(file, data, positions).validate(model)
