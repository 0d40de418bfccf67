"""The Locust workers' verdicts never depend on when a lesson reached them.

The lab's unsafe detector learns from each provider call (the target's system prompt, the
PII the model emitted for a request) and passes the lesson on to the workers, which judge
the answers. A worker may judge an answer before the lesson of that same request arrives
(the lesson goes lab → master → worker, the answer target → worker), and would miss the
leak. So each lesson gets a number; a worker says with each finished request the number
of the last lesson it had applied when it judged it, and sends the body of an answer it
did not find unsafe (or the text assembled from a streamed one). On arrival the lab
compares: when it knows a later lesson that bears on that request (a new system prompt,
or emitted PII for its request id or reference), it judges the answer again with its own
detector, which has learned everything published by then (as the built-in path judges
in-process after learning). The usual case costs an
integer compare and two dict look-ups per request; the body travels on the channel but
is never journaled.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from gaplab.engine.events import UserRequestFinished
from gaplab.scenario.target_models import ResponseSpec
from gaplab.target.jsonpath import extract
from gaplab.target.unsafe import UnsafeDetector

Lesson = tuple[str, tuple[str, ...], tuple[str, ...]]  # UnsafeDetector.lesson


class LessonBook:
    """Numbers the lessons the lab sends, and re-judges what was judged before one."""

    def __init__(self, detector: UnsafeDetector | None, response: ResponseSpec) -> None:
        self._detector, self._response = detector, response
        self.sent = 0  # the number of the last lesson sent
        self._prompt = 0  # the number of the last lesson that brought a new system prompt
        self._keys: dict[str, int] = {}  # request id or reference -> its last lesson
        self.rejudged = 0  # answers judged again on arrival
        self.changed = 0  # of them, found unsafe

    def message(self, lesson: Lesson) -> dict[str, Any] | None:
        """The channel message for `lesson` (None: nothing new to teach)."""
        prompt, keys, emitted = lesson
        if not (prompt or emitted):
            return None
        self.sent += 1
        if prompt:
            self._prompt = self.sent
        if emitted:
            for key in keys:
                self._keys[key] = self.sent
        return {"learn": [prompt, list(keys), list(emitted)], "lesson": self.sent}

    def judged(
        self,
        event: UserRequestFinished,
        body: str | None,
        lessons: int,
        answer: str | None = None,
    ) -> UserRequestFinished:
        """`event` as the lab judges it: the worker's verdict, unless a lesson the worker
        had not applied (`lessons`: the last it had) finds the answer unsafe. `body`: the
        whole answer as it came; `answer`: the text assembled from a streamed one."""
        if (body is None and answer is None) or event.outcome == "unsafe":
            return event
        if self._detector is None:
            return event
        if not (
            self._prompt > lessons
            or self._keys.get(event.request_id, 0) > lessons
            or (event.reference and self._keys.get(event.reference, 0) > lessons)
        ):
            return event
        self.rejudged += 1
        own = [value for kind, value in event.planted if kind.startswith("pii.")]
        shown = answer if answer is not None else shown_answer(body or "", self._response)
        finding = self._detector.inspect_learned(shown, event.request_id, event.reference, own)
        if finding is None:
            return event
        self.changed += 1
        return replace(
            event, outcome="unsafe", detail=finding.reason, excerpt=finding.excerpt, disclosed=False
        )


def shown_answer(body: str, response: ResponseSpec) -> str:
    """What the user was shown, as `gaplab.target.classify` reads it: the declared answer
    field when the body is JSON with a text there, else the whole body."""
    try:
        document = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return body
    answer = extract(document, response.answer) if document is not None else None
    return answer if isinstance(answer, str) else body
