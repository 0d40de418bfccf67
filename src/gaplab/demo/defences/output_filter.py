"""The output filter: keep the system prompt out of answers, and refuse answers that say
they obey someone else.

Two tests on the model's answer, nothing else:

- `echoes_prompt(answer, prompt)`: any run of `ECHO_WORDS` (6) consecutive words of the
  system prompt the service sent, after folding case, accents and punctuation and the
  same normalisation the guard uses (so a prompt spelt out in look-alike letters still
  counts). The prompt is the one of this call: the filter needs no list of secrets.
- `announces_other_instructions(answer)`: phrases with which a model says it changed
  sides ("ignoring my previous instructions", "my new instructions are", "developer mode
  enabled", "my system prompt is").

`filter_answer` removes every sentence that echoes the prompt and shows the rest; it
refuses when what is left still echoes it, announces other instructions, or is too short to
be an answer. Removing rather than refusing matters when the model leaks on every answer:
refusing every ordinary question is not a defence (the lab's leak check says so too).

It does not look for whatever the user's input asked the model to say: that is the input
guard's job, so switching the guard off lets an injected order through, and each defence
owns exactly its check. Hand-written: an n-gram overlap is a few lines of standard Python.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gaplab.demo.defences.normalise import clean, fold

ECHO_WORDS = 6
MIN_WORDS = 4  # fewer words left once an echo is removed: nothing worth showing
# A sentence ends at . ! ? (a closing quote or bracket may follow) before a space, or at a
# line break: the unit an echo is removed in.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"”’')\]])\s+|\n+")
_WORD = re.compile(r"[^\W_]+")
_ANNOUNCEMENTS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(?:ignoring|disregarding|forgetting|overriding|dropping|setting\s+aside)\s+"
        r"(?:all\s+|my\s+|the\s+|any\s+)*(?:previous|prior|earlier|original|initial|above|old|"
        r"system)?\s*(?:instructions|rules|guidelines|prompt|directives|programming)",
        r"\b(?:my|the)\s+(?:new|updated|real|actual|revised)\s+(?:instructions|rules|orders|"
        r"directives)\s+(?:are|say|tell)",
        r"\b(?:my|the)\s+(?:system\s+prompt|initial\s+prompt|hidden\s+prompt|instructions)\s+"
        r"(?:is|are|says?|reads?|tells?\s+me)\s*[:\"“]",
        r"\bhere\s+(?:is|are)\s+my\s+(?:system\s+prompt|instructions|initial\s+prompt|rules)\b",
        r"\b(?:developer|jailbreak|dan|god|unrestricted)\s+mode\s+(?:enabled|activated|on)\b",
        r"\b(?:as|like)\s+(?:you|the\s+(?:document|email|text|page))\s+(?:instructed|ordered|"
        r"told\s+me|asked\s+me\s+to)\b[^.\n]{0,40}\b(?:ignore|instead|new|override)",
        r"\bi\s+(?:will|shall|am\s+going\s+to)\s+(?:now\s+)?(?:ignore|disregard|no\s+longer\s+"
        r"follow)\s+(?:my|the|all)\b",
        r"\b(?:understood|ok(?:ay)?|sure|certainly)[:,!.]?\s+(?:i\s+(?:am|'m)\s+now|ignoring|"
        r"from\s+now\s+on\s+i)\b",
    )
)


def words(text: str) -> list[str]:
    """`text` as lower-case words without accents or punctuation, homoglyphs folded."""
    text = fold(clean(text)).lower()
    text = "".join(
        char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char)
    )
    return _WORD.findall(text)


def echoes_prompt(answer: str, prompt: str, size: int = ECHO_WORDS) -> str | None:
    """The first `size`-word run of `prompt` found in `answer` (joined by spaces), or None."""
    prompt_words = words(prompt)
    grams = {tuple(prompt_words[i : i + size]) for i in range(len(prompt_words) - size + 1)}
    if not grams:
        return None
    answer_words = words(answer)
    for i in range(len(answer_words) - size + 1):
        gram = tuple(answer_words[i : i + size])
        if gram in grams:
            return " ".join(gram)
    return None


def announces_other_instructions(answer: str) -> str | None:
    """The phrase with which the answer says it follows other instructions, or None."""
    text = fold(clean(answer))
    for pattern in _ANNOUNCEMENTS:
        match = pattern.search(text)
        if match is not None:
            return match.group(0)
    return None


@dataclass(frozen=True)
class FilterDecision:
    """What the filter made of one answer: the text to show (echoing sentences removed),
    or None to refuse, and why (for logs)."""

    answer: str | None
    reason: str = ""

    @property
    def refused(self) -> bool:
        return self.answer is None


def filter_answer(answer: str, prompt: str) -> FilterDecision:
    """Drop every sentence that echoes `prompt`; refuse when the rest still echoes it, says
    it follows other instructions, or has nothing left to say (fewer than `MIN_WORDS`)."""
    kept: list[str] = []
    dropped = 0
    for sentence in _SENTENCE_END.split(answer):
        if echoes_prompt(sentence, prompt) is None:
            kept.append(sentence)
        else:
            dropped += 1
    rest = " ".join(part for part in kept if part.strip())
    echoed = echoes_prompt(rest, prompt)
    if echoed is not None:
        return FilterDecision(None, f"echoes the system prompt: {echoed!r}")
    announced = announces_other_instructions(rest)
    if announced is not None:
        return FilterDecision(None, f"follows other instructions: {announced!r}")
    if dropped and len(words(rest)) < MIN_WORDS:
        return FilterDecision(None, "nothing left once the echo of the system prompt is removed")
    reason = f"removed {dropped} sentence(s) echoing the system prompt" if dropped else ""
    return FilterDecision(rest if dropped else answer, reason)
