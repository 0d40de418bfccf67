"""Prompt caching as providers bill it: the part of a prompt that repeats an earlier one is
read from a cache and billed at the model's cached-input price.

OpenAI caches prompts of at least 1,024 tokens automatically and reports the hit in
`usage.prompt_tokens_details.cached_tokens`, in steps of 128 tokens; Anthropic reports
`usage.cache_read_input_tokens` (there only up to a `cache_control` breakpoint the caller
sets). The mock keeps one deterministic rule for both dialects:

- a model caches only when its profile gives it a `price_cached_input`;
- a prompt is a chain of blocks: a header (the tool definitions, and Anthropic's top-level
  system prompt), then each message; a *prefix* is the header and the first k messages
  (k may be 0 when there is a header),
  identical (role, content, every field) to a prompt this model was sent before, within
  `TTL` seconds of that prompt's last use on the run clock;
- the cached tokens of a call are its longest such prefix, counted as the provider counts
  prompt tokens (messages with their overhead), rounded down to a multiple of 128, and 0
  when under 1,024;
- a call's prefixes are remembered once the model answers it (a refused or failed call
  caches nothing), so the first of two identical prompts pays in full, the second reads
  the cache, as a conversation that resends its history does from its second long turn.

Written by hand: a real prompt cache works on token ids, which a mock without a vocabulary
does not have; whole messages are the unit a resent conversation or a repeated system
prompt repeats. The entries are cachetools' TTLCache (bounded, expiring on the injected
run clock), as the demos' caches are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from cachetools import TTLCache

from gaplab.provider.calls import ChatRequest
from gaplab.provider.tokens import REPLY_OVERHEAD, count_messages

MIN_CACHED = 1_024  # tokens: shorter prompts are never cached
STEP = 128  # cached tokens come in steps of this many
TTL = 300.0  # seconds a cached prefix lives after its last use (both providers: ~5 min)
MAX_PREFIXES = 200_000  # remembered prefixes, least recently used out first


def cached_share(prefix_tokens: int) -> int:
    """The tokens billed as cached for a repeated prefix of `prefix_tokens`."""
    return 0 if prefix_tokens < MIN_CACHED else prefix_tokens // STEP * STEP


class PromptCache:
    def __init__(self, clock: Callable[[], float], ttl: float = TTL) -> None:
        self._prefixes: TTLCache[int, bool] = TTLCache(maxsize=MAX_PREFIXES, ttl=ttl, timer=clock)

    def __len__(self) -> int:
        return len(self._prefixes)

    def read(self, request: ChatRequest, model: str, tokens_in: int) -> int:
        """The cached tokens of `request` to `model` (prompt of `tokens_in` tokens), and
        remember its prefixes for the calls after it. Call it once the model answers."""
        if tokens_in < MIN_CACHED:
            return 0  # nothing this short is cached, nor any prefix of it
        header = _header(request)
        keys = _chain(model, request.dialect, header, request.messages)
        hit = -1  # how many messages the longest repeated prefix holds (0: the header only)
        for length in range(len(keys), 0, -1):
            if self._prefixes.get(keys[length - 1]):
                hit = length - (1 if header else 0)
                break
        for key in keys:  # re-inserted: a prefix in use stays alive
            self._prefixes[key] = True
        if hit < 0:
            return 0
        prefix = count_messages(request.messages[:hit], header) - REPLY_OVERHEAD
        return cached_share(min(prefix, tokens_in))


def _header(request: ChatRequest) -> list[str]:
    """What comes before the messages, as the prompt's token count takes it."""
    texts = []
    if request.dialect == "anthropic" and request.system_prompt:
        texts.append(request.system_prompt)
    if request.tools:
        texts.append(orjson.dumps(list(request.tools)).decode())
    return texts


def _chain(
    model: str, dialect: str, header: list[str], messages: Sequence[dict[str, Any]]
) -> list[int]:
    """One key per prefix (the header alone when there is one, then the header and the
    first k messages, k = 1..n), each folding the one before it, so equal keys mean equal
    prefixes (up to a 64-bit hash collision)."""
    key = hash((model, dialect, *header))
    keys = [key] if header else []
    for message in messages:
        key = hash((key, orjson.dumps(message, option=orjson.OPT_SORT_KEYS)))
        keys.append(key)
    return keys
