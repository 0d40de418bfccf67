"""JSON answers for JSON mode: what the simulated model writes when the caller asks for JSON.

- `response_format: {type: json_schema, json_schema: {schema}}`: an object that satisfies the
  schema, filled as tool arguments are (words of the question, the answer's first sentence
  for free text), enum values drawn by the seed;
- `json_object`: the keys of the JSON object example found in the system prompt, each
  filled like the example (a value the prompt lists as `"key" (one of a, b, c)` is drawn
  from that list), else `{"answer": ...}`.

The served model's `behaviour.format` shapes the text, so that a model swap changes what a
caller parses: `plain` is the bare object, `markdown` wraps it in a fenced block after a
sentence of prose (not parseable as it stands), `bullets` wraps it in `{"result": ...}` (valid
JSON, another shape).
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from gaplab.provider.answers import key_nouns, request_rng

_ONE_OF = r'"{key}"\s*\((?:one of|either)\s+([^)]+)\)'
_DEPTH = 6  # nested schemas deeper than this are filled with empty objects


def json_answer(
    text: str,
    question: str,
    system_prompt: str | None,
    schema: dict[str, Any] | None,
    seed: int,
    shape: str = "plain",
) -> str:
    """The JSON text a model of format `shape` answers with; `text` is its prose answer."""
    rng = request_rng(seed, "json", question)
    document: Any
    if schema is not None:
        document = _fill(schema, text, question, rng, "", 0)
    else:
        example = _prompt_example(system_prompt or "")
        document = (
            {"answer": text}
            if example is None
            else {
                key: _like(key, value, system_prompt or "", text, rng)
                for key, value in example.items()
            }
        )
    if shape == "markdown":
        return f"Here is the JSON you asked for:\n\n```json\n{json.dumps(document, indent=2)}\n```"
    if shape == "bullets":
        return json.dumps({"result": document})
    return json.dumps(document)


def _first_sentence(text: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return sentence or "No details."


def _fill(
    schema: dict[str, Any], text: str, question: str, rng: random.Random, name: str, depth: int
) -> Any:
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options and isinstance(options[0], dict):
            return _fill(options[0], text, question, rng, name, depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties")
        if not isinstance(properties, dict) or depth >= _DEPTH:
            return {}
        required = schema.get("required")
        names = [n for n in properties if not isinstance(required, list) or n in required]
        return {
            n: _fill(p if isinstance(p, dict) else {}, text, question, rng, n, depth + 1)
            for n, p in properties.items()
            if n in names
        }
    if kind == "array":
        items = schema.get("items")
        count = max(1, int(schema.get("minItems", 1)))
        item = items if isinstance(items, dict) else {}
        return [_fill(item, text, question, rng, name, depth + 1) for _ in range(count)]
    if kind == "integer":
        low, high = int(schema.get("minimum", 1)), int(schema.get("maximum", 10))
        return rng.randint(low, max(low, high))
    if kind == "number":
        bottom, top = float(schema.get("minimum", 1)), float(schema.get("maximum", 10))
        return round(rng.uniform(bottom, max(bottom, top)), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    nouns = key_nouns(question, limit=3)
    if not nouns or name.lower() in ("summary", "answer", "text", "description", "reason"):
        value = _first_sentence(text)
    else:
        value = nouns[rng.randrange(len(nouns))]
    limit = schema.get("maxLength")
    return value[:limit] if isinstance(limit, int) else value


def _prompt_example(prompt: str) -> dict[str, Any] | None:
    """The first JSON object written in the prompt, if any."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", prompt):
        try:
            value, _ = decoder.raw_decode(prompt, match.start())
        except ValueError:
            continue
        if isinstance(value, dict) and value:
            return value
    return None


def _like(key: str, example: Any, prompt: str, text: str, rng: random.Random) -> Any:
    """A value for `key` shaped like the prompt's example value."""
    listed = re.search(_ONE_OF.format(key=re.escape(key)), prompt)
    if listed is not None:
        choices = [c.strip(" .'\"") for c in re.split(r",|\bor\b", listed.group(1))]
        choices = [c for c in choices if c]
        if choices:
            return rng.choice(choices)
    if isinstance(example, str) and " " in example:
        return _first_sentence(text)
    if isinstance(example, bool):
        return example
    if isinstance(example, int | float):
        return type(example)(rng.randint(1, 10))
    return example
