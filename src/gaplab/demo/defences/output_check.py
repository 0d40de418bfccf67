"""The `output_check` defence: a 200 from the provider is not always an answer.

`completion_problem(completion)` names what makes a completion unfit to pass on as a
normal answer, or returns None:

- no text at all (empty or blank content, no choices);
- a refusal: the `message.refusal` field, or content that is nothing but a refusal
  sentence ("I'm sorry, but I can't help with that.");
- `finish_reason` `length` (the answer was cut mid-way) or `content_filter` (withheld);
- tool calls whose arguments are not a JSON object (a caller would crash on them).

`stream_problem(...)` applies the same rules to what a stream delivered. The user then
gets the fallback answer marked degraded. No retry: each of these comes back the same for
the same request. It does not validate JSON answers against their contract: that is the
`contract` defence's job (`triage_contract.py`).
"""

from __future__ import annotations

import json
import re

from openai.types.chat import ChatCompletion

REFUSAL_WORDS = 40  # a refusal is short; a longer answer that opens with "sorry" is an answer
_REFUSAL = re.compile(
    r"^\W*(?:i'?m\s+sorry|i\s+am\s+sorry|sorry|i\s+apologi[sz]e|unfortunately)\b[^.!?]{0,40}?"
    r"\b(?:i\s+(?:can(?:no|')t|cannot|am\s+unable\s+to|am\s+not\s+able\s+to|won'?t|"
    r"must\s+decline\s+to)|i'?m\s+(?:unable|not\s+able)\s+to)\s+"
    r"(?:help|assist|comply|provide|answer|do\s+that|support)",
    re.IGNORECASE,
)
_BAD_FINISH = {
    "length": "the answer was cut off (finish_reason length)",
    "content_filter": "the answer was withheld by the content filter",
}


def looks_like_refusal(text: str) -> bool:
    """True for content that is only a model's refusal, not an answer."""
    normalised = text.replace("’", "'")
    return len(normalised.split()) <= REFUSAL_WORDS and bool(_REFUSAL.search(normalised))


def stream_problem(text: str, finish_reason: str | None, refused: bool) -> str | None:
    """Why a finished stream's answer is not a normal answer, or None."""
    if refused:
        return "the model refused"
    if finish_reason in _BAD_FINISH:
        return _BAD_FINISH[finish_reason]
    if not text.strip():
        return "the model returned no text"
    if looks_like_refusal(text):
        return "the model refused (refusal text)"
    return None


def completion_problem(completion: ChatCompletion) -> str | None:
    """Why `completion` is not an answer to pass on, or None."""
    if not completion.choices:
        return "the model returned no choices"
    choice = completion.choices[0]
    message = choice.message
    for call in message.tool_calls or ():
        arguments = getattr(getattr(call, "function", None), "arguments", None)
        if not _is_json_object(arguments):
            return "the model's tool call has invalid arguments"
    return stream_problem(message.content or "", choice.finish_reason, bool(message.refusal))


def _is_json_object(text: object) -> bool:
    if not isinstance(text, str):
        return False
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
