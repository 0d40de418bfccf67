"""The target's output contract (`response.contract`): what a normal answer must look like.

`contract_problem(answer, contract)` says what is wrong with the value at `response.answer`,
or returns None: not JSON where a JSON shape is declared (a text answer is parsed as JSON
first), a required field missing, a JSON-schema violation (the first one, with its path),
longer than `max_length` characters. JSON Schema is validated with `jsonschema` (the
reference implementation; its validators are built once per schema and reused), in the
draft the schema names (`$schema`), 2020-12 by default.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson
from jsonschema import validators
from jsonschema.protocols import Validator

from gaplab.scenario.target_models import ContractSpec


@functools.lru_cache(maxsize=64)
def _validator(schema_text: bytes) -> Validator:
    schema = orjson.loads(schema_text)
    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    validator: Validator = cls(schema)
    return validator


def _structured(answer: Any) -> tuple[Any, str | None]:
    """The answer as JSON data: itself, or a text answer parsed."""
    if not isinstance(answer, str):
        return answer, None
    try:
        return orjson.loads(answer), None
    except orjson.JSONDecodeError:
        return None, "the answer is not JSON"


def contract_problem(answer: Any, contract: ContractSpec) -> str | None:
    if contract.max_length is not None:
        length = len(answer) if isinstance(answer, str) else len(orjson.dumps(answer))
        if length > contract.max_length:
            return f"{length} characters (max {contract.max_length})"
    if contract.json_schema is None and not contract.required:
        return None
    data, problem = _structured(answer)
    if problem is not None:
        return problem
    if contract.required:
        if not isinstance(data, dict):
            return "the answer is not a JSON object"
        missing = [name for name in contract.required if name not in data]
        if missing:
            return "missing " + ", ".join(missing)
    if contract.json_schema is not None:
        schema = orjson.dumps(contract.json_schema, option=orjson.OPT_SORT_KEYS)
        error = next(iter(_validator(schema).iter_errors(data)), None)
        if error is not None:
            where = error.json_path
            return f"{where}: {error.message}"[:200]
    return None
