"""Deterministic answers that relate to the question, without a language model.

The key nouns of the last user turn are slotted into template sentences chosen by an RNG
seeded with (run seed, request content), so the same request in the same run always gets
the same answer, and a model's `Behaviour` (verbosity, format, opener) shapes the wording.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from functools import lru_cache

from gaplab.provider.profiles import Behaviour
from gaplab.provider.tokens import piece_tokens, pieces

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")
_STOPWORDS_TEXT = """about above after again against also always among another answer
    anything because been
    before being below between both came can cannot could did does doing done down during each
    either else even every explain from further give given have having here hers herself him
    himself his how however into its itself just know like make many might more most much must
    myself need never next not now off once only other ought our ours over own please quite
    rather really said same say see should show since some something still such tell than that
    the their theirs them themselves then there these they thing things this those through thus
    too under until upon very want was way were what when where whether which while who whom
    whose why will with within without would yes yet you your yours yourself the and for are
    but any all one two use using used get got let may per via its it's i'm i've what's"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
# Imperative verbs open many questions ("rotate the keys"); nouns make better topics.
_VERBS_TEXT = """summarise summarize describe compare list fix help
add build change check configure connect create delete deploy disable enable
export find import install keep migrate move remove rename reset restore rotate
run scale send setup stop sync track update upgrade write"""
_VERBS = frozenset(_VERBS_TEXT.split())

_OPENERS = (
    "{A} mostly comes down to {b} and {c}.",
    "In short, {a} depends on {b} and how you handle {c}.",
    "The main thing to know about {a} is how it interacts with {b} and {c}.",
    "For {a}, start by looking at {b}, then at {c}.",
)
_MIDDLES = (
    "A common mistake is to treat {b} as an afterthought; plan for it early.",
    "Check {c} first, since it usually explains most of the behaviour you see with {a}.",
    "If {b} changes, revisit {a} as well, because the two are closely linked.",
    "Keep {c} simple and measurable so that problems with {a} show up quickly.",
    "Document how {a} and {b} fit together so the next person can follow it.",
    "Small, reversible steps work best when {b} is involved.",
)
_CLOSERS = (
    "That should give you a solid starting point for {a}.",
    "Let me know if you want more detail on {b}.",
    "With that in place, {a} tends to stay predictable.",
)


_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9'-]*|[^\sA-Za-z]+")


def request_rng(seed: int, *parts: str) -> random.Random:
    """An RNG that depends only on the run seed and the given request content."""
    digest = hashlib.blake2b(repr((seed, parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def key_nouns(question: str, limit: int = 3) -> list[str]:
    """Distinctive words of the question, in order of first appearance."""
    found: list[str] = []
    for word in _WORD.findall(question):
        lowered = word.lower().strip("'-")
        if len(lowered) < 4 or lowered in _STOPWORDS or lowered in found:
            continue
        found.append(lowered)
    found.sort(key=lambda word: word in _VERBS)  # stable: nouns first, order kept
    return found[:limit]


def key_phrases(question: str, limit: int = 3) -> list[str]:
    """Runs of consecutive content words ("database credentials", "billing service"),
    leading imperative verbs dropped, at most two words each, in order of appearance."""
    phrases: list[str] = []
    run: list[str] = []
    # Lazily, and no further than the `limit`-th phrase: a pasted 50-page document has its
    # first phrases in its first line, and scanning all of it (about 60 ms a call on the
    # lab's event loop) made a huge-input run look like an overloaded lab.
    for match in _TOKEN.finditer(question + " ."):
        token = match.group()
        word = token.lower().strip("'-")
        if token[0].isalpha() and len(word) >= 3 and word not in _STOPWORDS:
            # Identifiers (INV-12345, SKU42) keep their spelling; words are lower-cased.
            run.append(token if any(c.isdigit() for c in token) else word)
            continue
        while run and run[0] in _VERBS:
            run.pop(0)
        phrase = " ".join(run[:2])
        if run and phrase not in phrases and (len(run) > 1 or len(run[0]) >= 4):
            phrases.append(phrase)
            if len(phrases) >= limit:
                break
        run = []
    return phrases[:limit]


@lru_cache(maxsize=4096)  # deterministic, and retries and load tests repeat questions
def compose_answer(question: str, seed: int, behaviour: Behaviour, salt: str = "") -> str:
    """An answer to `question` worded by `behaviour`; the same inputs give the same text."""
    rng = request_rng(seed, question, salt)
    nouns = key_phrases(question) or ["your question"]
    for filler in ("the details", "your setup"):
        if len(nouns) < 3:
            nouns.append(filler)
    slots = {"a": nouns[0], "A": nouns[0][:1].upper() + nouns[0][1:], "b": nouns[1], "c": nouns[2]}
    sentences = [rng.choice(_OPENERS).format(**slots)]
    middles = list(_MIDDLES)
    rng.shuffle(middles)
    for index in range(behaviour.verbosity - 1):
        template = middles[index % len(middles)] if index < behaviour.verbosity - 2 else None
        sentences.append((template or rng.choice(_CLOSERS)).format(**slots))
    if behaviour.format == "bullets" and len(sentences) > 1:
        body = sentences[0] + "\n\n" + "\n".join(f"- {s}" for s in sentences[1:])
    elif behaviour.format == "markdown":
        body = f"**{slots['A']}**: " + " ".join(sentences)
    else:
        body = " ".join(sentences)
    parts = [p for p in (behaviour.opener, body, behaviour.closer) if p]
    return " ".join(parts)


@lru_cache(maxsize=4096)  # answers repeat under the answer cache; spare the re-splitting
def token_chunks(text: str) -> tuple[tuple[str, float], ...]:
    """`text` cut into stream chunks of about one token each, with their token counts."""
    return tuple((p, piece_tokens(p)) for p in pieces(text))


def truncate_to_tokens(
    chunks: Sequence[tuple[str, float]], limit: float
) -> list[tuple[str, float]]:
    """The leading chunks whose tokens fit in `limit`."""
    if sum(tokens for _, tokens in chunks) <= limit:
        return list(chunks)
    kept: list[tuple[str, float]] = []
    used = 0.0
    for piece, tokens in chunks:
        if used + tokens > limit:
            break
        kept.append((piece, tokens))
        used += tokens
    return kept
