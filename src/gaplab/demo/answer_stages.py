"""The hardened demo's output stages on model text: output filter → redact → sanitise.

`OutputStages.apply(answer)` runs them on a whole answer (`/chat`, the triage summary);
`OutputStages.apply_sentence(sentence)` on one sentence of a streamed answer, which is as
much as a stream can be judged on before it is sent: an echo of the system prompt is
dropped sentence by sentence, an answer that announces it follows other instructions is
withdrawn (the stream then ends with an error event), personal data and outside links are
removed from each sentence. `SentenceRelease` holds streamed text back until a sentence
is complete. Each stage runs only when its defence is on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gaplab.demo.contract import SHOP_HOST
from gaplab.demo.defences.output_filter import (
    announces_other_instructions,
    echoes_prompt,
    filter_answer,
)
from gaplab.demo.defences.redact import redact
from gaplab.demo.defences.sanitise import sanitise_answer
from gaplab.demo.options import HardenedConfig

LINK_HOSTS = (SHOP_HOST,)
OWN_DOMAINS = (SHOP_HOST,)  # the shop's role addresses are not personal data
# Where a sentence ends: . ! ? (a closing quote or bracket may follow) before a space, or a
# line break (the output filter's unit).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"”’')\]])\s+|\n+")


@dataclass(frozen=True)
class Staged:
    """What the stages made of a text: the text to show, or None to withhold it; why."""

    text: str | None
    reason: str = ""


class OutputStages:
    def __init__(self, config: HardenedConfig, system_prompt: str) -> None:
        self._config = config
        self._prompt = system_prompt
        self.active = any(config.has(d) for d in ("output_filter", "redact", "sanitise"))

    def apply(self, answer: str) -> Staged:
        reason = ""
        if self._config.has("output_filter"):
            decision = filter_answer(answer, self._prompt)
            if decision.answer is None:
                return Staged(None, decision.reason)
            answer, reason = decision.answer, decision.reason
        return Staged(self._clean(answer), reason)

    def apply_sentence(self, sentence: str) -> Staged:
        if self._config.has("output_filter"):
            # As on a whole answer: echoing sentences go first, then what is left is judged.
            echoed = echoes_prompt(sentence, self._prompt)
            if echoed is not None:
                return Staged("", f"removed a sentence echoing the system prompt: {echoed!r}")
            announced = announces_other_instructions(sentence)
            if announced is not None:
                return Staged(None, f"follows other instructions: {announced!r}")
        return Staged(self._clean(sentence))

    def _clean(self, text: str) -> str:
        if self._config.has("redact"):
            text = redact(text, OWN_DOMAINS).text
        if self._config.has("sanitise"):
            # The sanitiser trims; keep the whitespace between streamed sentences.
            body = text.rstrip()
            text = sanitise_answer(body, LINK_HOSTS) + text[len(body) :] if body else text
        return text


class SentenceRelease:
    """Streamed text in, whole sentences out, each with the whitespace that follows it (the
    rest waits for more text or `flush`)."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, text: str) -> list[str]:
        self._held += text
        sentences: list[str] = []
        start = 0
        for match in _SENTENCE_END.finditer(self._held):
            sentences.append(self._held[start : match.end()])
            start = match.end()
        self._held = self._held[start:]
        return sentences

    def flush(self) -> list[str]:
        held, self._held = self._held, ""
        return [held] if held else []
