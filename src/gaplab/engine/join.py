"""Join provider calls to the user requests that caused them.

Two ways, in order: a correlation value the target forwarded (the lab's request id in any
correlation header, `user` or `metadata` field the provider journaled), else the request's
reference (`KQX-482135`) found in what the target sent, by content. A conversation resends
earlier turns, so the reference looked for first is the one in the *last* user message.
Every check that asks "which calls did this request cause?" uses this one join.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from gaplab.engine.events import UserRequestFinished
from gaplab.load.inputs.reference import references_in
from gaplab.provider.journal import ProviderCall
from gaplab.provider.tokens import content_text


def call_references(call: ProviderCall) -> list[str]:
    """References named in a call, the last user turn's first, then earlier turns' (latest
    first); duplicates removed."""
    found: list[str] = []
    users = [m for m in call.messages if m.get("role") == "user"]
    for message in reversed(users):
        for ref in references_in(content_text(message.get("content"))):
            if ref not in found:
                found.append(ref)
    return found


class Join:
    """Which calls each request caused, and which request each call belongs to."""

    def __init__(
        self, requests: Sequence[UserRequestFinished], calls: Sequence[ProviderCall]
    ) -> None:
        by_id = {r.request_id: r for r in requests}
        by_reference = {r.reference: r for r in requests if r.reference}
        self._calls: dict[str, list[ProviderCall]] = defaultdict(list)
        self._request: dict[str, UserRequestFinished] = {}
        self.by_correlation = 0
        self.by_content = 0
        self.unjoined: list[ProviderCall] = []
        for call in calls:
            request = next((by_id[v] for v in call.correlation.values() if v in by_id), None)
            if request is not None:
                self.by_correlation += 1
            else:
                request = next(
                    (by_reference[r] for r in call_references(call) if r in by_reference), None
                )
                if request is not None:
                    self.by_content += 1
            if request is None:
                self.unjoined.append(call)
                continue
            self._calls[request.request_id].append(call)
            self._request[call.call_id] = request

    def calls_for(self, request_id: str) -> list[ProviderCall]:
        """The calls a request caused, in arrival order (retries included)."""
        return self._calls.get(request_id, [])

    def request_for(self, call: ProviderCall) -> UserRequestFinished | None:
        return self._request.get(call.call_id)

    def requests_of(self, calls: Iterable[ProviderCall]) -> list[UserRequestFinished]:
        """The distinct requests behind `calls`, in order of first appearance."""
        seen: dict[str, UserRequestFinished] = {}
        for call in calls:
            request = self._request.get(call.call_id)
            if request is not None:
                seen.setdefault(request.request_id, request)
        return list(seen.values())

    @property
    def joined(self) -> int:
        return self.by_correlation + self.by_content
