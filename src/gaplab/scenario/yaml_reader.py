"""Read a YAML input file into plain data and the position of every key path in it, in
bounded time and memory, whatever the bytes.

PyYAML's composer keeps the position of every node; we build plain Python data from the
nodes alongside a map from each key path to its position. A file that is binary, not UTF-8,
too large or a directory, YAML that is malformed, nested too deeply, carries a bad tag
(`!!int banana`) or expands through aliases into something huge (a "billion laughs"
document) is an `InputError` with its position; nothing else ever comes out.

Merge keys (`<<: *base`) are supported as YAML 1.1 defines them: the mapping's own keys win,
then the merged mappings in the order given. A merged value keeps the position where it is
written (under the anchor), so an error in it points there. The data is JSON-like:
timestamps stay the text they were written as, binary values are refused.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from gaplab.errors import InputError, Problem

PathKey = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line, column

# Far above any real scenario, target or profile file (the bundled ones are 1-3 kB with a
# few hundred values), far below what would slow a run's start.
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64  # nesting levels of mappings and sequences
MAX_ALIASES = 1_000  # `*name` references in one file
MAX_VALUES = 100_000  # keys, values and items once aliases and merges are expanded
MAX_TEXT = 8 * 1024 * 1024  # characters of scalars once aliases are expanded

_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
# What PyYAML's safe constructors raise for a scalar they cannot read (`!!int banana`,
# `!!bool maybe`, `!!timestamp 2020-99-99` or `!!timestamp 1`, an int of 4300+ digits).
_CONSTRUCTOR_FAILURES = (ValueError, LookupError, TypeError, AttributeError, ArithmeticError)


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml") else tag


def _position(mark: yaml.Mark) -> Position:
    return mark.line + 1, mark.column + 1


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose composer refuses too many aliases and too deep nesting before
    Python's recursion limit or memory gives out."""

    def __init__(self, text: str, file: str) -> None:
        super().__init__(text)
        self.file = file
        self._depth = 0
        self._aliases = 0

    def _refuse(self, message: str) -> InputError:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        mark = event.start_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        return InputError(Problem(self.file, line, column, "", message))

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise self._refuse(f"more than {MAX_ALIASES} aliases (*name): refused")
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise self._refuse(f"nested more than {MAX_DEPTH} levels deep: refused")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Size:
    """How big a composed document becomes once its aliases and merges are expanded,
    measured on the node graph in linear time (each node once), before anything is built."""

    def __init__(self, file: str) -> None:
        self.file = file
        self._known: dict[int, tuple[int, int, int]] = {}  # id -> values, text, depth
        self._open: set[int] = set()

    def _refuse(self, node: yaml.Node, message: str) -> InputError:
        line, column = _position(node.start_mark)
        return InputError(Problem(self.file, line, column, "", message + ": refused"))

    def check(self, node: yaml.Node) -> None:
        values, text, _ = self._measure(node, 1)
        if values > MAX_VALUES:
            raise self._refuse(
                node,
                f"more than {MAX_VALUES} values once aliases are expanded "
                "(aliases that multiply, as in a 'billion laughs' document?)",
            )
        if text > MAX_TEXT:
            raise self._refuse(
                node, f"more than {MAX_TEXT} characters of text once aliases are expanded"
            )

    def _measure(self, node: yaml.Node, level: int) -> tuple[int, int, int]:
        known = self._known.get(id(node))
        if known is not None:
            if level + known[2] - 1 > MAX_DEPTH:
                raise self._refuse(node, f"nested more than {MAX_DEPTH} levels deep")
            return known
        if level > MAX_DEPTH:
            raise self._refuse(node, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.ScalarNode):
            measured = (1, len(node.value), 1)
        else:
            if id(node) in self._open:
                raise self._refuse(node, "an alias refers to the mapping or list it is in")
            self._open.add(id(node))
            children: list[yaml.Node] = (
                [n for pair in node.value for n in pair]
                if isinstance(node, yaml.MappingNode)
                else list(node.value)
            )
            values, text, depth = 1, 0, 1
            for child in children:
                child_values, child_text, child_depth = self._measure(child, level + 1)
                values += child_values
                text += child_text
                depth = max(depth, child_depth + 1)
                if values > MAX_VALUES or text > MAX_TEXT:
                    break  # big enough to refuse; stop counting
            self._open.discard(id(node))
            measured = (values, text, depth)
        self._known[id(node)] = measured
        return measured


class _Builder:
    """Plain data from composed nodes (already measured), with every key path's position."""

    def __init__(self, loader: _BoundedLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.positions: dict[PathKey, Position] = {}

    def refuse(self, node: yaml.Node, field: str, message: str) -> InputError:
        line, column = _position(node.start_mark)
        return InputError(Problem(self.file, line, column, field, message))

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.positions[path] = _position(node.start_mark)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            if node.tag not in _PLAIN_COLLECTION_TAGS:
                kind = "mapping" if isinstance(node, yaml.MappingNode) else "list"
                raise self.refuse(
                    node,
                    dotted(path),
                    f"the tag {_short_tag(node.tag)} is not supported on a {kind}",
                )
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            return self._mapping(node, path)
        return self.scalar(node, dotted(path))

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key, key_node, value_node in self._pairs(node, path, (id(node),)):
            if key in result:  # a merged key the mapping (or an earlier merge) already has
                continue
            child = (*path, key)
            result[key] = self.build(value_node, child)
            # Point errors about a key at the key itself, which is where users look.
            self.positions[child] = _position(key_node.start_mark)
        return result

    def _pairs(
        self, node: yaml.MappingNode, path: PathKey, within: tuple[int, ...]
    ) -> list[tuple[Any, yaml.Node, yaml.Node]]:
        """The mapping's own (key, key node, value node), then those of merged mappings."""
        own: list[tuple[Any, yaml.Node, yaml.Node]] = []
        merged: list[tuple[Any, yaml.Node, yaml.Node]] = []
        keys: set[Any] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        raise self.refuse(
                            source, dotted(path), "`<<` merges a mapping or a list of mappings"
                        )
                    if id(source) in within:
                        raise self.refuse(source, dotted(path), "`<<` merges a mapping into itself")
                    merged.extend(self._pairs(source, path, (*within, id(source))))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.refuse(key_node, dotted(path), "a key must be a plain value")
            key = self.scalar(key_node, dotted(path))
            if key in keys:
                raise self.refuse(key_node, dotted((*path, key)), "duplicate key")
            keys.add(key)
            own.append((key, key_node, value_node))
        return own + merged

    def scalar(self, node: yaml.Node, field: str) -> Any:
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            raise self.refuse(node, field, f"YAML: {exc.problem}") from None
        except _CONSTRUCTOR_FAILURES:
            raise self.refuse(
                node, field, f"{node.value!r} is not a valid {_short_tag(node.tag)}"
            ) from None
        if isinstance(value, datetime.date):  # keep `2024-05-01` as written: data is JSON-like
            return node.value
        if isinstance(value, bytes):
            raise self.refuse(node, field, "binary values (!!binary) are not supported")
        return value


_PLAIN_KEY = re.compile(r"[^\s\"'\[\]]+")


def dotted(path: Iterable[object]) -> str:
    """`phases[1].faults[0].provider`; a key that is not plain text (empty, with spaces or
    control characters) is quoted, `headers["X Bad"]`, so the field stays one word."""
    text = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        elif isinstance(part, str) and _PLAIN_KEY.fullmatch(part) and part.isprintable():
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part if isinstance(part, str) else str(part))}]"
    return text


def _reader_problem(text: str, file: str, exc: yaml.reader.ReaderError) -> Problem:
    before = text[: exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    if exc.character == 0:
        message = "a NUL byte is not allowed in YAML: is it a binary file?"
    else:
        message = f"character #x{exc.character:04x} is not allowed in YAML (a control character)"
    return Problem(file, line, column, "", message)


def parse_yaml(text: str, file: str) -> tuple[Any, dict[PathKey, Position]]:
    """Plain data and the position of every key path; `InputError` for anything wrong."""
    try:
        loader = _BoundedLoader(text, file)
    except yaml.reader.ReaderError as exc:
        raise InputError(_reader_problem(text, file, exc)) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputError(Problem(file, 1, 1, "", "the file is empty"))
        _Size(file).check(node)
        builder = _Builder(loader, file)
        return builder.build(node, ()), builder.positions
    except yaml.reader.ReaderError as exc:
        raise InputError(_reader_problem(text, file, exc)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise InputError(Problem(file, line, column, "", f"YAML syntax: {exc.problem}")) from None
    except yaml.YAMLError as exc:  # anything else PyYAML may raise, never a traceback
        raise InputError(Problem(file, None, None, "", f"YAML: {exc}")) from None
    except RecursionError:  # the limits above should make this unreachable
        raise InputError(Problem(file, None, None, "", "nested too deeply: refused")) from None
    finally:
        loader.dispose()


def read_text(path: Path) -> str:
    """The text of a YAML input file; `InputError` for a missing, unreadable, binary,
    non-UTF-8 or oversized file, or a directory."""
    file = str(path)
    try:
        if path.is_dir():
            raise InputError(Problem(file, None, None, "", "is a directory, not a file"))
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputError(Problem(file, None, None, "", "no such file")) from None
    except OSError as exc:
        raise InputError(
            Problem(file, None, None, "", f"cannot read: {exc.strerror or exc}")
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(
            Problem(file, None, None, "", f"larger than {MAX_FILE_BYTES // 2**20} MiB: refused")
        )
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"not UTF-8 text (byte 0x{raw[exc.start]:02x}): is it a binary file?"
        raise InputError(Problem(file, line, column, "", message)) from None
