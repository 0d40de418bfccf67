"""Load YAML files into strict models, reporting problems as `file:line:column: field: what`.

PyYAML's composer keeps the position of every node; we build plain Python data alongside a
map from each key path to its position, then translate pydantic's error locations through
that map. Nothing here raises anything but `InputError` for a bad file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gaplab.errors import InputError, Problem

Model = TypeVar("Model", bound=BaseModel)
PathKey = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line, column


class _SafeLineLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (YAML allows them silently)."""


def _to_python(
    node: yaml.Node,
    path: PathKey,
    positions: dict[PathKey, Position],
    loader: yaml.SafeLoader,
    file: str,
) -> Any:
    positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                raise InputError(_problem(file, key_node, "", "a key must be a plain value"))
            if key in result:
                raise InputError(_problem(file, key_node, _dotted((*path, key)), "duplicate key"))
            child = (*path, key)
            result[key] = _to_python(value_node, child, positions, loader, file)
            # Point errors about a key at the key itself, which is where users look.
            positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _to_python(item, (*path, index), positions, loader, file)
            for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _problem(file: str, node: yaml.Node, field: str, message: str) -> Problem:
    return Problem(file, node.start_mark.line + 1, node.start_mark.column + 1, field, message)


def _dotted(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_yaml(text: str, file: str) -> tuple[Any, dict[PathKey, Position]]:
    """Plain data and the position of every key path; `InputError` on a syntax error."""
    loader = _SafeLineLoader(text)
    positions: dict[PathKey, Position] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputError(Problem(file, 1, 1, "", "the file is empty"))
        return _to_python(node, (), positions, loader, file), positions
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise InputError(Problem(file, line, column, "", f"YAML syntax: {exc.problem}")) from None
    finally:
        loader.dispose()


def _locate(loc: tuple[int | str, ...], positions: dict[PathKey, Position]) -> Position | None:
    path: PathKey = tuple(loc)
    while True:
        if path in positions:
            return positions[path]
        if not path:
            return None
        path = path[:-1]


def validation_problems(
    exc: ValidationError, file: str, positions: dict[PathKey, Position]
) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        # Drop pydantic's internal steps (union branch names, function-after markers).
        loc = tuple(
            p
            for p in error["loc"]
            if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))
        )
        position = _locate(loc, positions)
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see docs/scenarios.md)"
        elif error["type"] == "missing":
            message = "required field is missing"
        message = message.removeprefix("Value error, ")
        problems.append(
            Problem(
                file,
                position[0] if position else None,
                position[1] if position else None,
                _dotted(loc),
                message,
            )
        )
    return problems


def load_model(path: Path, model: type[Model]) -> Model:
    """Read `path` and validate it as `model`; every failure is an `InputError`."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(Problem(file, None, None, "", "no such file")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(file, None, None, "", f"cannot read: {exc}")) from None
    return validate_text(text, file, model)


def validate_text(text: str, file: str, model: type[Model]) -> Model:
    data, positions = parse_yaml(text, file)
    if not isinstance(data, dict):
        raise InputError(Problem(file, 1, 1, "", "expected a mapping of fields at the top level"))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_problems(exc, file, positions)) from None
