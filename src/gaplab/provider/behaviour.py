"""What the simulated model says: the answer, its length limit, stop sequences, and the
behaviours a fault asks for. Deterministic under (run seed, request content).
"""

from __future__ import annotations

import json

from gaplab.provider.answers import compose_answer, token_chunks, truncate_to_tokens
from gaplab.provider.calls import ChatRequest, Completion
from gaplab.provider.profiles import ModelSpec
from gaplab.provider.tokens import count_messages


def prompt_tokens(request: ChatRequest) -> int:
    """Input tokens as the provider bills them: messages, a top-level system, tool schemas."""
    extra: list[str] = []
    if request.dialect == "anthropic" and request.system_prompt:
        extra.append(request.system_prompt)
    if request.tools:
        extra.append(json.dumps(list(request.tools)))
    return count_messages(request.messages, extra)


def build_completion(
    request: ChatRequest, spec: ModelSpec, served: str, seed: int, tokens_in: int
) -> Completion:
    """The model's answer to `request`, cut to `max_tokens` and the model's output limit."""
    limit = min(request.max_tokens or spec.max_output, spec.max_output)
    texts: list[str] = []
    all_chunks: list[list[tuple[str, int]]] = []
    finish = "stop"
    for choice in range(max(1, request.n)):
        text = compose_answer(request.question, seed, spec.behaviour, salt=f"{served}:{choice}")
        text = _cut_at_stop(text, request.stop)
        chunks = token_chunks(text)
        kept = truncate_to_tokens(chunks, limit)
        if len(kept) < len(chunks):
            finish = "length"
        all_chunks.append(kept)
        texts.append("".join(piece for piece, _ in kept))
    tokens_out = sum(tokens for chunks in all_chunks for _, tokens in chunks)
    return Completion(
        model=served,
        texts=texts,
        finish_reason=finish,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        chunks=all_chunks,
    )


def _cut_at_stop(text: str, stops: tuple[str, ...]) -> str:
    cut = len(text)
    for stop in stops:
        if stop and (position := text.find(stop)) >= 0:
            cut = min(cut, position)
    return text[:cut]
