"""Tool calling for the simulated model: when to call a tool, which one, and arguments built
from the tool's JSON schema with words of the question. Both dialects' tool shapes.

The model calls a tool when `tool_choice` forces it, or (auto) when a key noun of the last
user turn appears in a tool's name or description, and never right after a tool result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from gaplab.provider.answers import key_nouns, request_rng
from gaplab.provider.calls import ChatRequest


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    schema: dict[str, Any]


def declared_tools(request: ChatRequest) -> list[Tool]:
    tools: list[Tool] = []
    for raw in request.tools:
        function = raw.get("function")
        spec: dict[str, Any] = function if isinstance(function, dict) else raw
        name = spec.get("name")
        if not isinstance(name, str):
            continue
        schema = spec.get("parameters") or spec.get("input_schema") or {}
        tools.append(
            Tool(
                name, str(spec.get("description") or ""), schema if isinstance(schema, dict) else {}
            )
        )
    return tools


def after_tool_result(request: ChatRequest) -> bool:
    last = request.messages[-1]
    if last.get("role") == "tool":
        return True
    content = last.get("content")
    return isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in content
    )


def tool_to_call(request: ChatRequest) -> Tool | None:
    tools = declared_tools(request)
    choice = request.tool_choice
    if not tools or choice == "none" or after_tool_result(request):
        return None
    if choice and choice.startswith("function:"):
        wanted = choice.removeprefix("function:")
        return next((t for t in tools if t.name == wanted), None)
    nouns = key_nouns(request.question, limit=8)
    for tool in tools:
        words = set(re.split(r"[^a-z0-9]+", f"{tool.name} {tool.description}".lower()))
        if any(noun in words or noun.rstrip("s") in words for noun in nouns):
            return tool
    return tools[0] if choice == "required" else None


def arguments_for(tool: Tool, question: str, seed: int) -> str:
    """A JSON object string that satisfies the tool's schema, filled from the question."""
    properties = tool.schema.get("properties")
    if not isinstance(properties, dict):
        return "{}"
    required = tool.schema.get("required")
    names = [n for n in properties if not isinstance(required, list) or n in required]
    nouns = key_nouns(question, limit=len(names) + 2) or ["unknown"]
    rng = request_rng(seed, "tool", tool.name, question)
    values: dict[str, Any] = {}
    for position, name in enumerate(names):
        prop = properties[name] if isinstance(properties[name], dict) else {}
        values[name] = _value(prop, nouns[position % len(nouns)], rng.randint(1, 10))
    return json.dumps(values)


def _value(prop: dict[str, Any], noun: str, number: int) -> Any:
    if isinstance(prop.get("enum"), list) and prop["enum"]:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind == "integer":
        return number
    if kind == "number":
        return float(number)
    if kind == "boolean":
        return True
    if kind == "array":
        return [noun]
    if kind == "object":
        return {}
    return noun


def tool_result_text(request: ChatRequest) -> str:
    """The content of the tool result the model was just given, for the follow-up answer."""
    last = request.messages[-1]
    content = last.get("content")
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                inner = block.get("content")
                return inner if isinstance(inner, str) else json.dumps(inner)
    return content if isinstance(content, str) else json.dumps(content)
