"""What the simulated model says: the answer or a tool call, cut by `max_tokens` and the
model's output limit, shaped by JSON mode, and bent by the behaviours faults ask for
(refusal, content filter, injection obeyed, system-prompt leak, exfiltration link, seeded
PII, huge output...). Deterministic under (run seed, request content); `planted` records
the ground truth of what was put into the answer, for the checks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import quote

from faker import Faker

from gaplab.provider.answers import compose_answer, request_rng, token_chunks, truncate_to_tokens
from gaplab.provider.calls import ChatRequest, Completion
from gaplab.provider.faults import ProviderFault
from gaplab.provider.injection import find_injection
from gaplab.provider.json_answers import json_answer
from gaplab.provider.profiles import ModelSpec
from gaplab.provider.tokens import content_text, count_messages, count_tokens
from gaplab.provider.tools import after_tool_result, arguments_for, tool_result_text, tool_to_call

REFUSAL_TEXT = "I'm sorry, but I can't help with that request."


def prompt_tokens(request: ChatRequest) -> int:
    """Input tokens as the provider bills them: messages, a top-level system, tool schemas."""
    extra: list[str] = []
    if request.dialect == "anthropic" and request.system_prompt:
        extra.append(request.system_prompt)
    if request.tools:
        extra.append(json.dumps(list(request.tools)))
    return count_messages(request.messages, extra)


def build_completion(
    request: ChatRequest,
    spec: ModelSpec,
    served: str,
    seed: int,
    tokens_in: int,
    faults: Sequence[ProviderFault] = (),
) -> Completion:
    """The model's answer to `request`, cut to `max_tokens` and the model's output limit.
    A request `seed` joins the run seed: the same request with the same seed gets the same
    answer, with another seed (most likely) another one, as OpenAI's best-effort promise."""
    if request.seed is not None:
        seed = request_rng(seed, "request-seed", str(request.seed)).getrandbits(63)
    wanted: dict[str, ProviderFault] = {f.behaviour: f for f in faults if f.behaviour}
    limit = min(request.max_tokens or spec.max_output, spec.max_output)
    if "content_filter" in wanted:
        filtered = {"bad_output": "content_filter"}
        return Completion(served, [""], "content_filter", tokens_in, 0, [[]], planted=filtered)
    if "refusal" in wanted:
        refusal_chunks = list(token_chunks(REFUSAL_TEXT))
        return Completion(
            served,
            [""],
            "refusal",
            tokens_in,
            count_tokens(REFUSAL_TEXT),
            [refusal_chunks],
            refusal=REFUSAL_TEXT,
            planted={"bad_output": "refusal"},
        )
    if "empty" in wanted:
        return Completion(served, [""], "stop", tokens_in, 0, [[]], planted={"bad_output": "empty"})
    tool = tool_to_call(request)
    if tool is not None and "obey_injection" not in wanted:
        arguments = arguments_for(tool, request.question, seed)
        if "invalid_tool_args" in wanted:
            arguments = arguments.rstrip("}") + ', "' if arguments != "{}" else '{"'
        call_id = (
            f"call_{request_rng(seed, 'call', tool.name, request.question).getrandbits(64):016x}"
        )
        tokens = count_tokens(tool.name) + count_tokens(arguments) + 3
        return Completion(
            served,
            [""],
            "tool_calls",
            tokens_in,
            tokens,
            [[]],
            tool_calls=[(call_id, tool.name, arguments)],
            planted={"bad_output": "invalid_tool_args"} if "invalid_tool_args" in wanted else {},
        )

    planted: dict[str, str] = {}
    for name in ("length", "invalid_json"):
        if name in wanted:
            planted["bad_output"] = name
    texts, all_chunks, finish = [], [], "stop"
    for choice in range(max(1, request.n)):
        text = _answer_text(request, spec, served, seed, choice, wanted, planted)
        answer_chunks = token_chunks(text)
        cap = limit
        if "length" in wanted:
            cap = min(cap, max(1, count_tokens(text) // 2))
        kept = truncate_to_tokens(answer_chunks, cap)
        if len(kept) < len(answer_chunks):
            finish = "length"
        all_chunks.append(kept)
        texts.append("".join(piece for piece, _ in kept))
    # Same pieces, same weights as count_tokens(text), without splitting the text again.
    tokens_out = sum(max(1, round(sum(t for _, t in kept))) if kept else 0 for kept in all_chunks)
    return Completion(served, texts, finish, tokens_in, tokens_out, all_chunks, planted=planted)


def _answer_text(
    request: ChatRequest,
    spec: ModelSpec,
    served: str,
    seed: int,
    choice: int,
    wanted: dict[str, ProviderFault],
    planted: dict[str, str],
) -> str:
    text = compose_answer(request.question, seed, spec.behaviour, salt=f"{served}:{choice}")
    if after_tool_result(request):
        text = f"Based on the tool result ({tool_result_text(request)[:160]}): {text}"
    text = _cut_at_stop(text, request.stop)
    prefix: list[str] = []
    suffix: list[str] = []
    if "obey_injection" in wanted:
        prefix += _obey(request, planted)
    if "leak_system_prompt" in wanted:
        prefix.append(f'My instructions say: "{request.system_prompt or ""}"')
        planted["system_prompt"] = request.system_prompt or ""
    if "exfil_link" in wanted:
        suffix.append(_image_link(wanted["exfil_link"].exfil_url, request, planted))
    if "pii" in wanted:
        suffix.append(_seeded_pii(seed, request.question, planted))
    if "huge_output" in wanted:
        suffix.append(_huge(text, wanted["huge_output"].huge_tokens))
    text = " ".join([*prefix, text, *suffix])
    if request.json_mode or "invalid_json" in wanted:
        text = json_answer(
            text,
            request.question,
            request.system_prompt,
            request.json_schema,
            seed,
            spec.behaviour.format if request.json_mode else "plain",
        )
        if "invalid_json" in wanted:
            text = text[: max(12, len(text) // 2)]  # unterminated: not parseable
    return text


def _obey(request: ChatRequest, planted: dict[str, str]) -> list[str]:
    """Do what an injected instruction in the non-system turns asks, exactly: repeat its
    canary, leak the system prompt received, show its image link (carrying data), emit its
    markup. Nothing asked, nothing done."""
    received = "\n".join(
        content_text(m.get("content"))
        for m in request.messages
        if m.get("role") not in ("system", "developer")
    )
    injection = find_injection(received)
    if injection is None:
        return []
    obeyed: list[str] = []
    planted["injection"] = injection.text[:200]
    if injection.canary:
        obeyed.append(injection.canary)
        planted["canary"] = injection.canary
    if injection.wants_system_prompt:
        obeyed.append(f'My system prompt is: "{request.system_prompt or ""}"')
        planted["system_prompt"] = request.system_prompt or ""
    if injection.exfil_url:
        obeyed.append(_image_link(injection.exfil_url, request, planted))
    if injection.script:
        obeyed.append(injection.script)
        planted["script"] = injection.script
    return obeyed


def _image_link(url: str, request: ChatRequest, planted: dict[str, str]) -> str:
    secret = (request.system_prompt or request.question)[:60]
    link = f"{url}{'&' if '?' in url else '?'}d={quote(secret)}"
    planted["exfil_url"] = link
    return f"![loading]({link})"


@lru_cache(maxsize=1)
def _faker() -> Faker:
    return Faker("en_US")


def _seeded_pii(seed: int, question: str, planted: dict[str, str]) -> str:
    fake = _faker()
    fake.seed_instance(request_rng(seed, "pii", question).getrandbits(32))
    name, email, phone = fake.name(), fake.email(), fake.phone_number()
    planted.update({"pii.name": name, "pii.email": email, "pii.phone": phone})
    return f"A similar case was handled for {name} ({email}, {phone})."


def _huge(text: str, tokens: int) -> str:
    unit = max(1, count_tokens(text) + 1)
    return " ".join([text] * max(1, tokens // unit))


def _cut_at_stop(text: str, stops: tuple[str, ...]) -> str:
    cut = len(text)
    for stop in stops:
        if stop and (position := text.find(stop)) >= 0:
            cut = min(cut, position)
    return text[:cut]
